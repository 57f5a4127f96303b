// The WASM backend in the page on one thread and on several, side by side in one run: the same
// engine work timed on `?threads=1` and `?threads=2` (the page's own count is one thread per physical
// core, taken as half the logical ones, so 1 on a 2-core machine; the page must be cross-origin
// isolated, as `vite preview` serves it). For each default model it opens
// /?model=<id>&backend=wasm[&threads=N] in a fresh browser context (a fresh engine worker),
// waits for the baseline the page measures on opening, then times:
//   baseline  "Measure again" pressed → the measurement done (the page's aria-busy), REPEATS times;
//   prune     Wanda, the sparsity slider moved to 50% by keyboard → the pruned metric shown (the
//             first prune: calibration + pruning + measuring), then one more step to 55% (the
//             calibration kept); wall time from the last key press, and the worker's own
//             calibration / prune / evaluate times that the page shows (data-testid prune-times).
// Thread settings alternate within each round (ROUNDS rounds) so that drift in the machine's load
// falls on both alike. Drives Debian's Chromium through Playwright against the production build
// (run `npx vite build` first) served by `vite preview`. Prints a table and writes
// bench/results/page-threads-<date>.json (a later run the same day replaces it).
//
//   npx vite build && npm run bench:page-threads
//   MODELS=gpt-bytes THREADS=1,2,4 ROUNDS=1 REPEATS=2 npm run bench:page-threads
// THREADS: the settings compared; 'auto' is the page's default (no ?threads=), a number is ?threads=N.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { type Browser, chromium, type Page } from '@playwright/test';
import { chromiumArgs } from '../playwright.config';
import { startPreview } from './lib/page-bench';

const MODELS = (process.env.MODELS ?? 'vit-fashion,gpt-bytes').split(',');
const THREADS = (process.env.THREADS ?? '1,2').split(',');
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const REPEATS = Number(process.env.REPEATS ?? 3);
const METHOD = process.env.METHOD ?? 'wanda';
const PORT = Number(process.env.PORT ?? 4394);
const DIST = process.env.DIST ?? 'dist';
const STEP_TIMEOUT_MS = Number(process.env.STEP_TIMEOUT_S ?? 600) * 1000;

interface PruneTimes {
  /** Last key press → the pruned metric shown, ms. */
  wallMs: number;
  /** The worker's own times for that prune, as the page shows them. */
  calibrationMs: number;
  pruneMs: number;
  evaluateMs: number;
}

interface Run {
  model: string;
  /** The setting asked for: '1', 'auto'… */
  setting: string;
  round: number;
  /** What the status bar says beside the backend ("2 threads") and its tooltip. */
  shown: string;
  shownTitle: string | null;
  /** Page opened → the baseline the page measures on opening done, ms (downloads, warm-up included). */
  openAndBaselineMs: number;
  /** "Measure again" → done, ms, REPEATS times. */
  baselineMs: number[];
  /** The first prune at 50% (calibration included) and one more step to 55%. */
  prune50: PruneTimes;
  prune55: PruneTimes;
  /** The metrics shown (the same on every setting, or threads changed the numbers). */
  baselineText: string;
  prunedText: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const metricPanel = (page: Page) => page.locator('section.metric-panel');

/** Presses "Measure again" and times, in the page, the measurement from the press to aria-busy="false". */
async function timeBaseline(page: Page): Promise<number> {
  return page.evaluate(
    (timeoutMs) =>
      new Promise<number>((resolve, reject) => {
        const section = document.querySelector('section.metric-panel')!;
        const button = [...section.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'Measure again');
        if (!button) return reject(new Error('no "Measure again" button'));
        let busySeen = false;
        const timer = setTimeout(() => reject(new Error('the measurement did not end in time')), timeoutMs);
        const observer = new MutationObserver(() => {
          const busy = section.getAttribute('aria-busy') === 'true';
          if (busy) busySeen = true;
          else if (busySeen) {
            observer.disconnect();
            clearTimeout(timer);
            resolve(performance.now() - t0);
          }
        });
        observer.observe(section, { attributes: true, attributeFilter: ['aria-busy'] });
        const t0 = performance.now();
        button.click();
      }),
    STEP_TIMEOUT_MS,
  );
}

async function pruneTimesShown(page: Page): Promise<string | null> {
  const el = page.getByTestId('prune-times');
  if ((await el.count()) === 0) return null;
  return [
    await el.getAttribute('data-calibration-ms'),
    await el.getAttribute('data-prune-ms'),
    await el.getAttribute('data-evaluate-ms'),
  ].join('/');
}

/** Presses ArrowRight `presses` times on the slider; waits for the new report; its times. */
async function timePrune(page: Page, presses: number, expected: string): Promise<PruneTimes> {
  const slider = page.getByRole('slider', { name: 'Global sparsity' });
  const before = await pruneTimesShown(page);
  await slider.focus();
  for (let i = 0; i < presses - 1; i++) await page.keyboard.press('ArrowRight');
  const t0 = Date.now();
  await page.keyboard.press('ArrowRight');
  if ((await slider.inputValue()) !== expected)
    throw new Error(`the slider is at ${await slider.inputValue()}, not ${expected}`);
  await page.waitForFunction(
    (before) => {
      const times = document.querySelector('[data-testid="prune-times"]');
      const metric = document.querySelector('[data-testid="pruned-metric"]')?.textContent ?? '';
      if (!times || !/^\d+(\.\d+)?%?$/.test(metric.trim())) return false;
      const now = ['data-calibration-ms', 'data-prune-ms', 'data-evaluate-ms']
        .map((a) => times.getAttribute(a))
        .join('/');
      return now !== before;
    },
    before,
    { timeout: STEP_TIMEOUT_MS, polling: 50 },
  );
  const wallMs = Date.now() - t0;
  const el = page.getByTestId('prune-times');
  const num = async (a: string) => Number(await el.getAttribute(a));
  return {
    wallMs,
    calibrationMs: await num('data-calibration-ms'),
    pruneMs: await num('data-prune-ms'),
    evaluateMs: await num('data-evaluate-ms'),
  };
}

async function measure(browser: Browser, model: string, setting: string, round: number): Promise<Run> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    const query = `?model=${model}&backend=wasm${setting === 'auto' ? '' : `&threads=${setting}`}`;
    const t0 = Date.now();
    await page.goto(`http://localhost:${PORT}/${query}`);
    await metricPanel(page).getByRole('button', { name: 'Measure again' }).waitFor({ timeout: STEP_TIMEOUT_MS });
    const openAndBaselineMs = Date.now() - t0;
    const threads = page.locator('.backend .backend-threads');
    const shown = (await threads.textContent())?.replace(/^[\s·]+/, '').trim() ?? '';
    const shownTitle = await threads.getAttribute('title');
    if (!(await page.locator('.backend-name').textContent())?.includes('wasm'))
      throw new Error('the page is not on the WASM backend');
    const baselineMs: number[] = [];
    for (let i = 0; i < REPEATS; i++) baselineMs.push(await timeBaseline(page));
    const baselineText = ((await metricPanel(page).textContent()) ?? '').replace('Measure again', '');

    await page.getByLabel('Method', { exact: true }).selectOption(METHOD);
    const prune50 = await timePrune(page, 10, '0.5');
    const prune55 = await timePrune(page, 1, '0.55');
    const prunedText = (await page.getByTestId('pruned-metric').textContent())?.trim() ?? '';
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    const run: Run = {
      model,
      setting,
      round,
      shown,
      shownTitle,
      openAndBaselineMs,
      baselineMs,
      prune50,
      prune55,
      baselineText: baselineText.replace(/\s+/g, ' ').trim(),
      prunedText,
    };
    console.error(
      `${model} threads=${setting} (${shown}) round ${round}: baseline ${baselineMs.map((x) => x.toFixed(0)).join(', ')} ms; prune 50% ${prune50.wallMs} ms, 55% ${prune55.wallMs} ms`,
    );
    return run;
  } finally {
    await context.close();
  }
}

function table(runs: Run[]): string {
  const settings = THREADS;
  const head = settings.map((s) => {
    const shown = runs.find((r) => r.setting === s)?.shown ?? s;
    return s === 'auto' ? `default (${shown})` : `?threads=${s} (${shown})`;
  });
  const lines = [
    `| model | engine work (median, ms) | ${head.join(' | ')} | speed-up |`,
    `|---|---|${settings.map(() => '---:').join('|')}|---:|`,
  ];
  const rows: [string, (r: Run) => number[]][] = [
    ['baseline evaluation', (r) => r.baselineMs],
    [`${METHOD} 50%: calibrate + prune + measure (wall)`, (r) => [r.prune50.wallMs]],
    ['  of which calibration (worker)', (r) => [r.prune50.calibrationMs]],
    ['  of which pruning (worker)', (r) => [r.prune50.pruneMs]],
    ['  of which measuring (worker)', (r) => [r.prune50.evaluateMs]],
    [`${METHOD} step to 55%: prune + measure (wall)`, (r) => [r.prune55.wallMs]],
  ];
  for (const model of MODELS) {
    for (const [label, pick] of rows) {
      const cells = settings.map((s) => {
        const xs = runs.filter((r) => r.model === model && r.setting === s).flatMap(pick);
        return xs.length ? median(xs) : null;
      });
      const first = cells[0];
      const last = cells[cells.length - 1];
      const speedup = first !== null && last !== null && last > 0 ? `${(first / last).toFixed(2)}×` : '—';
      lines.push(
        `| ${model} | ${label} | ${cells.map((c) => (c === null ? '—' : c.toFixed(0))).join(' | ')} | ${speedup} |`,
      );
    }
  }
  return lines.join('\n');
}

async function main() {
  if (!existsSync(`${DIST}/index.html`))
    throw new Error(`no production build in ${DIST}/: run \`npx vite build\` first`);
  const server = await startPreview(PORT, DIST);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs });
  const version = browser.version();
  const runs: Run[] = [];
  const failures: { model: string; setting: string; round: number; error: string }[] = [];
  const loadBefore = loadavg();
  const started = new Date();
  try {
    for (let round = 1; round <= ROUNDS; round++)
      for (const model of MODELS) {
        // Alternate which setting goes first, so neither always runs on a cooler machine.
        const order = round % 2 ? THREADS : [...THREADS].reverse();
        for (const setting of order) {
          try {
            runs.push(await measure(browser, model, setting, round));
          } catch (e) {
            const error = (e as Error).message.split('\n')[0];
            failures.push({ model, setting, round, error });
            console.error(`${model} threads=${setting} round ${round}: ${error}`);
          }
        }
      }
  } finally {
    await browser.close();
    if (server.pid) process.kill(-server.pid);
  }
  const out = table(runs);
  console.log(out);
  for (const f of failures) console.log(`failed: ${f.model} threads=${f.setting} round ${f.round}: ${f.error}`);
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/page-threads-${started.toISOString().slice(0, 10)}.json`;
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        started: started.toISOString(),
        chromium: version,
        cpus: { count: cpus().length, model: cpus()[0]?.model },
        loadAverage: { before: loadBefore, after: loadavg() },
        settings: { models: MODELS, threads: THREADS, rounds: ROUNDS, repeats: REPEATS, method: METHOD },
        table: out,
        runs,
        failures,
      },
      null,
      2,
    )}\n`,
  );
  console.error(`wrote ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
