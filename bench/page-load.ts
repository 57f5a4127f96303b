// Load time and peak memory of the GPT-2-small-shaped checkpoint (548 MB, bench/lib/gpt2-small-shape.ts)
// in the page on the WASM backend, as a user opens it: the files chosen in the page's file picker,
// read and checked by the worker, weights made TF.js tensors, the model map drawn. Time: from
// handing the files to the picker to the model's twelve blocks on screen. Memory: the resident set
// of every Chromium process together, sampled every 100 ms from /proc, its peak over the idle page
// with the default model open. The shipped 0.8 MB model opened the same way beside it is the fixed
// cost of a load. Drives Debian's Chromium through Playwright against the production build (run
// `npx vite build` first) served by `vite preview`. Prints a table and writes
// bench/results/page-load-<date>.json.
//
//   npm run -s bench:page-load        (RUNS=2 by default)
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import { chromiumArgs } from '../playwright.config';
import { writeGpt2SmallShape } from './lib/gpt2-small-shape';
import { browserPid, openDefaultPage, startPreview, treeRss } from './lib/page-bench';
import { median } from './lib/median';

const RUNS = Number(process.env.RUNS ?? 2);
const PORT = Number(process.env.PORT ?? 4391);
const DIST = process.env.DIST ?? 'dist';
const BIG = process.env.DIR ?? 'data-cache/gpt2-small-shape';
const SMALL = 'public/models/gpt-bytes';

/** Resident memory of the browser's process tree, in bytes. */
const browserRss = (rootPid: number): number => treeRss(rootPid).reduce((t, p) => t + p.rss, 0);

interface Run {
  seconds: number;
  peakMB: number;
  idleMB: number;
}

async function openOnce(browser: Browser, pid: number, dir: string, blocks: number): Promise<Run> {
  const page = await browser.newPage();
  try {
    await openDefaultPage(page, PORT);
    await page.waitForTimeout(1000);
    const idle = browserRss(pid);
    let peak = idle;
    const sampler = setInterval(() => {
      peak = Math.max(peak, browserRss(pid));
    }, 100);
    const files = ['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => resolve(join(dir, f)));
    const t0 = performance.now();
    await page.getByLabel('Choose files…').setInputFiles(files);
    await page
      .getByRole('region', { name: 'Status' })
      .getByText(/your files/)
      .waitFor({ timeout: 900_000 });
    await page.getByRole('group', { name: `Block ${blocks}` }).waitFor({ timeout: 60_000 });
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, browserRss(pid));
    return { seconds, peakMB: peak / 2 ** 20, idleMB: idle / 2 ** 20 };
  } finally {
    await page.close();
  }
}

const fileBytes = writeGpt2SmallShape(BIG);
const server = await startPreview(PORT, DIST);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
const pid = browserPid();
const runs = { small: [] as Run[], big: [] as Run[] };
try {
  for (let i = 0; i < RUNS; i++) {
    for (const [key, dir, blocks] of [
      ['small', SMALL, 4],
      ['big', BIG, 12],
    ] as const) {
      const r = await openOnce(browser, pid, dir, blocks);
      runs[key].push(r);
      console.log(
        `${dir}: ${r.seconds.toFixed(1)} s, peak ${r.peakMB.toFixed(0)} MB (idle page ${r.idleMB.toFixed(0)} MB)`,
      );
    }
  }
} finally {
  await browser.close();
  if (server.pid) process.kill(-server.pid);
}
const pick = (rs: Run[]) => ({
  seconds: median(rs.map((r) => r.seconds)),
  peakMB: median(rs.map((r) => r.peakMB)),
  idleMB: median(rs.map((r) => r.idleMB)),
});
const small = pick(runs.small);
const big = pick(runs.big);
const summary = {
  date: new Date().toISOString(),
  loadavg: loadavg(),
  backend: 'wasm',
  fileMB: fileBytes / 1e6,
  runs: RUNS,
  shipped: small,
  gpt2SmallShape: big,
  peakOverIdleMB: big.peakMB - big.idleMB,
  peakOverIdleOverFile: ((big.peakMB - big.idleMB) * 2 ** 20) / fileBytes,
};
console.log(
  `\nPage (WASM), median of ${RUNS}: ${big.seconds.toFixed(1)} s to open the 548 MB checkpoint (${small.seconds.toFixed(1)} s for the shipped 3.4 MB model);` +
    ` browser memory peaks ${summary.peakOverIdleMB.toFixed(0)} MB over the idle page (${summary.peakOverIdleOverFile.toFixed(2)} × the file).`,
);
mkdirSync('bench/results', { recursive: true });
const out = join('bench/results', `page-load-${summary.date.slice(0, 10)}.json`);
writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
console.log(`written ${out}`);
