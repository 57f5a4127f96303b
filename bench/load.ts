// Load time and peak memory of a checkpoint in GPT-2 small's exact shape and layout (124 M
// parameters, 548 MB; bench/lib/gpt2-small-shape.ts) through the CLI: `eval --model DIR` on a model
// without evaluation data reads, checks and loads the checkpoint and prints its summary. Each run is
// its own process under /usr/bin/time, which gives the wall time and the peak resident memory; a
// run on the 0.2 M-parameter shipped model beside it is the fixed cost of starting the CLI. Prints a
// table and writes bench/results/load-<date>.json.
//
//   npm run -s bench:load            (RUNS=3 by default; the checkpoint is written once to data-cache/)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { writeGpt2SmallShape } from './lib/gpt2-small-shape';
import { median } from './lib/median';

const RUNS = Number(process.env.RUNS ?? 3);
const DIR = process.env.DIR ?? 'data-cache/gpt2-small-shape';
const SHIPPED = 'public/models/gpt-bytes';
const SMALL = 'data-cache/gpt-bytes-no-data';

interface Run {
  wallS: number;
  peakRssMB: number;
}

function timed(model: string): Run {
  const r = spawnSync('/usr/bin/time', ['-v', 'npx', 'tsx', 'src/cli/main.ts', 'eval', '--model', model, '--json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`eval --model ${model} failed: ${r.stderr.slice(-2000)}`);
  const field = (name: string) => {
    const m = new RegExp(`${name}: (.+)`).exec(r.stderr);
    if (!m) throw new Error(`/usr/bin/time printed no "${name}"`);
    return m[1].trim();
  };
  const [h, m, s] = field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)').split(':').map(Number);
  const wallS = s === undefined ? h * 60 + m : h * 3600 + m * 60 + s;
  return { wallS, peakRssMB: Number(field('Maximum resident set size \\(kbytes\\)')) / 1024 };
}

// The shipped model without its evaluation data, so that eval only loads it too.
mkdirSync(SMALL, { recursive: true });
for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) copyFileSync(join(SHIPPED, f), join(SMALL, f));

const t0 = performance.now();
const fileBytes = writeGpt2SmallShape(DIR);
const writeS = (performance.now() - t0) / 1000;
console.log(
  `checkpoint: ${DIR}/model.safetensors, ${(fileBytes / 1e6).toFixed(1)} MB (ready in ${writeS.toFixed(1)} s)`,
);

const rows = [SMALL, DIR].map((model) => ({ model, runs: [] as Run[] }));
for (let i = 0; i < RUNS; i++) {
  // Alternating, so a busy moment of the machine falls on both alike.
  for (const row of rows) {
    const run = timed(row.model);
    row.runs.push(run);
    console.log(`${row.model}: ${run.wallS.toFixed(2)} s, ${run.peakRssMB.toFixed(0)} MB peak RSS`);
  }
}
const [small, big] = rows.map((r) => ({
  wallS: median(r.runs.map((x) => x.wallS)),
  peakRssMB: median(r.runs.map((x) => x.peakRssMB)),
}));
const loadS = big.wallS - small.wallS;
const summary = {
  date: new Date().toISOString(),
  loadavg: loadavg(),
  fileMB: fileBytes / 1e6,
  runs: RUNS,
  cliStart: small,
  gpt2SmallShape: big,
  loadBeyondStartS: loadS,
  throughputMBps: fileBytes / 1e6 / loadS,
  peakRssOverFile: (big.peakRssMB * 1024 * 1024) / fileBytes,
};
console.log(
  [
    '',
    `CLI, median of ${RUNS}: ${big.wallS.toFixed(2)} s and ${big.peakRssMB.toFixed(0)} MB peak RSS for the 548 MB checkpoint;`,
    `${small.wallS.toFixed(2)} s and ${small.peakRssMB.toFixed(0)} MB for the 0.2 M-parameter model (the CLI's start).`,
    `Loading beyond the start: ${loadS.toFixed(2)} s (${summary.throughputMBps.toFixed(0)} MB/s); peak RSS = ${summary.peakRssOverFile.toFixed(2)} × the file.`,
  ].join('\n'),
);
mkdirSync('bench/results', { recursive: true });
const out = join('bench/results', `load-${summary.date.slice(0, 10)}.json`);
writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
console.log(`written ${out}`);
