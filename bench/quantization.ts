// Sparsity with quantization, and the searched allocation, measured through the CLI: on both
// default models and on the GPT-2-small-shaped checkpoint (bench/lib/gpt2-small-shape.ts, KJV text),
// SparseGPT 50% alone, GPTQ 4-bit alone, SparseGPT 50% + 4-bit in one sweep (joint), Wanda 50% then
// GPTQ 4-bit (two-step), and the RTN baselines, each with the metric, the bytes as stored and the
// time; and on gpt-bytes Wanda 50% under each allocation (uniform, OWL, sensitivity, EvoPress) with
// the time its split took. Each row is its own process (`npx tsx src/cli/main.ts … --json` under
// /usr/bin/time). Prints a markdown table for the README and writes
// bench/results/quantization-<date>.json.
//
//   npm run -s bench:quantization                       every row (GPT-2 small's take most of an hour)
//   MODELS=gpt-bytes,vit-fashion npm run -s bench:quantization
//   MODELS=gpt2-small-shape RECIPES='GPTQ 4-bit,SparseGPT 50%' npm run -s bench:quantization
// A run's rows replace the same rows of the day's file; the others stay.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { loadKjv } from '../scripts/data/kjv';
import { headlineOf } from '../src/engine/eval/headline';
import { writeGpt2SmallShape } from './lib/gpt2-small-shape';
import { timedCli } from './lib/real-size-runs';

const GPT2 = 'data-cache/gpt2-small-shape';
const CALIB = 'data-cache/kjv-train.txt';
const EVAL = 'data-cache/kjv-heldout.txt';

interface Model {
  id: string;
  args: string[];
  /** The metric's name and whether lower is better. */
  metric: 'bits/byte' | 'top-1';
}

const MODELS: Model[] = [
  { id: 'gpt-bytes', args: ['--model', 'public/models/gpt-bytes'], metric: 'bits/byte' },
  { id: 'vit-fashion', args: ['--model', 'public/models/vit-fashion'], metric: 'top-1' },
  {
    id: 'gpt2-small-shape',
    args: [
      ...['--model', GPT2, '--calib', CALIB, '--calib-count', '16'],
      ...['--eval', EVAL, '--eval-count', '16', '--seq-len', '128'],
    ],
    metric: 'bits/byte',
  },
];

const G = ['--group-size', '128'];
const RECIPES: { id: string; args: string[] }[] = [
  { id: 'dense', args: ['--method', 'magnitude', '--sparsity', '0'] },
  { id: 'RTN 4-bit', args: ['--method', 'magnitude', '--sparsity', '0', '--bits', '4', ...G, '--quantizer', 'rtn'] },
  { id: 'GPTQ 4-bit', args: ['--method', 'magnitude', '--sparsity', '0', '--bits', '4', ...G] },
  { id: 'SparseGPT 50%', args: ['--method', 'sparsegpt', '--sparsity', '0.5'] },
  { id: 'SparseGPT 50% + 4-bit (joint)', args: ['--method', 'sparsegpt', '--sparsity', '0.5', '--bits', '4', ...G] },
  { id: 'Wanda 50%', args: ['--method', 'wanda', '--sparsity', '0.5'] },
  { id: 'Wanda 50% + GPTQ 4-bit', args: ['--method', 'wanda', '--sparsity', '0.5', '--bits', '4', ...G] },
  {
    id: 'Wanda 50% + RTN 4-bit',
    args: ['--method', 'wanda', '--sparsity', '0.5', '--bits', '4', ...G, '--quantizer', 'rtn'],
  },
];
const ALLOCATIONS = ['uniform', 'owl', 'sensitivity', 'evopress'];

interface Result {
  model: string;
  recipe: string;
  metric: number | null;
  storedBytes: number | null;
  denseBytes: number | null;
  /** The CLI's own timings: calibration (an allocation's search included) and pruning, ms. */
  calibrationMs: number | null;
  pruneMs: number | null;
  wallS: number;
  blockSparsity: number[] | null;
  error: string | null;
}

async function row(model: Model, recipe: string, args: string[]): Promise<Result> {
  const run = await timedCli(['prune', ...model.args, ...args, '--json']);
  const base = { model: model.id, recipe, wallS: run.wallS };
  if (run.exitStatus !== 0)
    return {
      ...base,
      metric: null,
      storedBytes: null,
      denseBytes: null,
      calibrationMs: null,
      pruneMs: null,
      blockSparsity: null,
      error: run.stderrTail,
    };
  const r = JSON.parse(run.stdout);
  const report = r.report ?? r;
  return {
    ...base,
    metric: headlineOf(report.metric),
    storedBytes: report.bytes.stored,
    denseBytes: report.bytes.dense,
    calibrationMs: report.timeMs.calibration,
    pruneMs: report.timeMs.prune,
    blockSparsity: report.blockSparsity,
    error: null,
  };
}

const mib = (b: number | null) => (b === null ? '–' : `${(b / 2 ** 20).toFixed(2)} MiB`);
const sec = (ms: number | null) => (ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`);
const value = (m: Model, v: number | null) =>
  v === null ? 'failed' : m.metric === 'top-1' ? `${(100 * v).toFixed(2)}%` : v.toFixed(4);

async function main() {
  const date = new Date().toISOString();
  const wanted = process.env.MODELS?.split(',');
  const models = MODELS.filter((m) => !wanted || wanted.includes(m.id));
  const recipes = process.env.RECIPES?.split(',');
  if (models.some((m) => m.id === 'gpt2-small-shape')) {
    const kjv = loadKjv();
    mkdirSync('data-cache', { recursive: true });
    writeFileSync(CALIB, kjv.train);
    writeFileSync(EVAL, kjv.heldOut);
    writeGpt2SmallShape(GPT2);
  }
  const loadStart = loadavg();
  const results: Result[] = [];
  for (const m of models) {
    for (const r of RECIPES.filter((x) => !recipes || recipes.includes(x.id))) results.push(await row(m, r.id, r.args));
    if (m.id === 'gpt-bytes' && !recipes)
      for (const a of ALLOCATIONS)
        results.push(
          await row(m, `Wanda 50%, ${a} allocation`, ['--method', 'wanda', '--sparsity', '0.5', '--allocation', a]),
        );
  }
  const lines = [
    '| model | recipe | metric | as stored | calibration + search | pruning | wall |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...results.map((r) => {
      const m = MODELS.find((x) => x.id === r.model)!;
      return `| ${r.model} | ${r.recipe} | ${value(m, r.metric)} | ${mib(r.storedBytes)} | ${sec(r.calibrationMs)} | ${sec(r.pruneMs)} | ${r.wallS.toFixed(1)} s |`;
    }),
  ];
  console.log(lines.join('\n'));
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/quantization-${date.slice(0, 10)}.json`;
  const machine = { cpus: cpus().length, loadavgStart: loadStart, loadavgEnd: loadavg() };
  const same = (a: Result, b: Result) => a.model === b.model && a.recipe === b.recipe;
  const before: Result[] = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).results : [];
  const kept = before.filter((b) => !results.some((r) => same(r, b)));
  writeFileSync(file, `${JSON.stringify({ date, machine, results: [...kept, ...results] }, null, 2)}\n`);
  console.error(`written: ${file}`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
