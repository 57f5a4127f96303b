// Pruning at real models' sizes through the CLI: wall time and peak memory of Wanda, SparseGPT and
// 2:4 on a checkpoint in GPT-2 small's exact shape (Wanda also with the whole model loaded, side by side) (124 M parameters, F32, 548 MB;
// bench/lib/gpt2-small-shape.ts), and of a Wanda 50% export of one in TinyLlama-1.1B's (1.1 B
// parameters, BF16 in two shards, 2.2 GB; bench/lib/tinyllama-shape.ts), calibrated on the KJV
// training text and measured on its held-out chapters (scripts/data/kjv.ts). Each row is its own
// process, `npx tsx src/cli/main.ts …` under /usr/bin/time, which gives the wall time and the peak
// resident memory; the CLI's --json report gives the metric, the sparsity reached and its own
// timings. The export is then checked without loading it: every tensor BF16, sharded (index + ≥ 2
// shards), every q/k/v/o/gate/up/down projection 50% zeros. Rows with a bar (time and peak RSS,
// GB = 10^9 bytes) say whether it was met and by how much it was missed. Prints a markdown table for
// the README and writes bench/results/real-sizes-<date>.json. A row that fails is recorded with its
// stderr's tail and the next one runs; the script then exits 1.
//
//   npm run -s bench:real-sizes      (checkpoints and text written once to data-cache/, 2.8 GB; the export 2.2 GB)
//   ROWS=gpt2-wanda,gpt2-2:4 npm run -s bench:real-sizes     some rows only (the day's file keeps the others)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { runEnvironment } from './lib/environment';
import { join } from 'node:path';
import { loadKjv } from '../scripts/data/kjv';
import { writeGpt2SmallShape } from './lib/gpt2-small-shape';
import {
  checkExport,
  duration,
  type ExportCheck,
  memory,
  metCell,
  reportFields,
  resultCell,
  type Row,
  table,
  timedCli,
} from './lib/real-size-runs';
import { writeTinyLlamaShape } from './lib/tinyllama-shape';

const GPT2 = 'data-cache/gpt2-small-shape';
const TINYLLAMA = 'data-cache/tinyllama-shape';
const CALIB = 'data-cache/kjv-train.txt';
const EVAL = 'data-cache/kjv-heldout.txt';
const EXPORT_OUT = 'data-cache/tinyllama-wanda50';
const GB = 1e9;
const MB = 1e6;

interface Bar {
  wallS: number;
  peakRssBytes: number;
}

interface RowSpec {
  row: string;
  args: string[];
  bar: Bar | null;
  /** Checks what the row wrote, after it exits 0. */
  check?: () => Promise<ExportCheck>;
}

const budget = (size: string) => ['--memory-budget', size];
const gpt2Prune = (method: string[], memoryBudget = '1.2GB') => [
  'prune',
  '--model',
  GPT2,
  ...method,
  '--calib',
  CALIB,
  '--calib-count',
  '16',
  '--eval',
  EVAL,
  '--eval-count',
  '16',
  '--seq-len',
  '128',
  ...budget(memoryBudget),
  '--json',
];

const ROW_SPECS: RowSpec[] = [
  {
    row: 'gpt2-wanda',
    args: gpt2Prune(['--method', 'wanda', '--sparsity', '0.5']),
    bar: { wallS: 15 * 60, peakRssBytes: 1.2 * GB },
  },
  // The same run with the whole model loaded (a budget it fits), for the memory side by side.
  { row: 'gpt2-wanda-whole', args: gpt2Prune(['--method', 'wanda', '--sparsity', '0.5'], '100GB'), bar: null },
  // SparseGPT's f64 Hessian and its factors for the 3,072 inputs of c_proj: more than 1.5 GB in all.
  { row: 'gpt2-sparsegpt', args: gpt2Prune(['--method', 'sparsegpt', '--sparsity', '0.5'], '1.6GB'), bar: null },
  { row: 'gpt2-2:4', args: gpt2Prune(['--method', 'wanda', '--nm', '2:4']), bar: null },
  // LoRA after magnitude 50%: the recovery mode that fits a tab at this size (recovery/memory.ts),
  // its time per update (the JSON's recovery.msPerStep) and peak memory, the model loaded whole.
  {
    row: 'gpt2-lora',
    args: [
      ...gpt2Prune(['--method', 'magnitude', '--sparsity', '0.5'], '100GB'),
      '--recover',
      'lora',
      '--recover-data',
      'calibration',
      '--recover-steps',
      '10',
      '--recover-batch',
      '1',
    ],
    bar: null,
  },
  {
    row: 'tinyllama-wanda-export',
    args: [
      'export',
      '--model',
      TINYLLAMA,
      '--out',
      EXPORT_OUT,
      '--force',
      '--method',
      'wanda',
      '--sparsity',
      '0.5',
      '--calib',
      CALIB,
      '--calib-count',
      '8',
      '--seq-len',
      '128',
      ...budget('2GB'),
      '--json',
    ],
    bar: { wallS: 40 * 60, peakRssBytes: 2 * GB },
    check: () => checkExport(EXPORT_OUT),
  },
];

const wanted = process.env.ROWS?.split(',').map((r) => r.trim());
const unknown = wanted?.filter((r) => !ROW_SPECS.some((s) => s.row === r)) ?? [];
if (unknown.length > 0) {
  console.error(`ROWS: unknown row ${unknown.join(', ')} (rows: ${ROW_SPECS.map((s) => s.row).join(', ')})`);
  process.exit(2);
}
const specs = wanted ? ROW_SPECS.filter((s) => wanted.includes(s.row)) : ROW_SPECS;

async function runRow(spec: RowSpec): Promise<Row> {
  console.error(`\n== ${spec.row}: npx tsx src/cli/main.ts ${spec.args.join(' ')}`);
  const run = await timedCli(spec.args);
  const peakRssMB = run.peakRssBytes === null ? null : run.peakRssBytes / MB;
  const row: Row = {
    row: spec.row,
    command: run.command,
    exitStatus: run.exitStatus,
    signal: run.signal,
    wallS: run.wallS,
    peakRssMB,
    bar: spec.bar && { wallS: spec.bar.wallS, peakRssMB: spec.bar.peakRssBytes / MB },
    met: null,
    missedBy: null,
    metric: null,
    sparsity: null,
    timeMs: null,
  };
  if (run.exitStatus === 0) {
    try {
      Object.assign(row, reportFields(JSON.parse(run.stdout)));
    } catch (e) {
      row.reportError = `stdout is not the JSON report: ${(e as Error).message}: ${run.stdout.slice(-1000)}`;
      row.stderrTail = run.stderrTail;
    }
  } else row.stderrTail = run.stderrTail;
  if (row.bar) {
    const overS = Math.max(0, row.wallS - row.bar.wallS);
    const overMB = peakRssMB === null ? 0 : Math.max(0, peakRssMB - row.bar.peakRssMB);
    row.met = run.exitStatus === 0 && peakRssMB !== null && overS === 0 && overMB === 0;
    if (!row.met) row.missedBy = { wallS: overS, peakRssMB: overMB };
  }
  if (spec.check) row.check = run.exitStatus === 0 ? await spec.check() : null;
  return row;
}

// ---- Main ----

async function main() {
  const date = new Date().toISOString();
  const loadavgStart = loadavg();

  const kjv = loadKjv();
  mkdirSync('data-cache', { recursive: true });
  writeFileSync(CALIB, kjv.train);
  writeFileSync(EVAL, kjv.heldOut);
  console.error(`text: ${CALIB} ${kjv.train.length} bytes, ${EVAL} ${kjv.heldOut.length} bytes`);
  let t0 = performance.now();
  const gpt2Bytes = writeGpt2SmallShape(GPT2);
  const gpt2WriteS = (performance.now() - t0) / 1000;
  console.error(`checkpoint: ${GPT2}, ${(gpt2Bytes / MB).toFixed(1)} MB (ready in ${gpt2WriteS.toFixed(1)} s)`);
  t0 = performance.now();
  const tinyBytes = writeTinyLlamaShape(TINYLLAMA, kjv.train);
  const tinyWriteS = (performance.now() - t0) / 1000;
  console.error(`checkpoint: ${TINYLLAMA}, ${(tinyBytes / MB).toFixed(1)} MB (ready in ${tinyWriteS.toFixed(1)} s)`);

  const rows: Row[] = [];
  for (const spec of specs) {
    const row = await runRow(spec);
    rows.push(row);
    const rss = row.peakRssMB === null ? '?' : memory(row.peakRssMB);
    console.error(`== ${row.row}: ${duration(row.wallS)}, ${rss} peak RSS, met: ${metCell(row)}; ${resultCell(row)}`);
  }

  const summary = {
    date,
    ...runEnvironment(loadavgStart),
    checkpoints: {
      gpt2SmallShape: { dir: GPT2, fileBytes: gpt2Bytes },
      tinyllamaShape: { dir: TINYLLAMA, fileBytes: tinyBytes },
    },
    data: { calib: CALIB, calibBytes: kjv.train.length, eval: EVAL, evalBytes: kjv.heldOut.length },
    rows,
  };
  console.log(`\n${table(rows)}\n`);
  mkdirSync('bench/results', { recursive: true });
  const out = join('bench/results', `real-sizes-${date.slice(0, 10)}.json`);
  // ROWS re-runs some rows: the day's other rows stay in the file, each with the date it ran.
  const earlier: Row[] = wanted && existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')).rows : [];
  const merged = [
    ...earlier.filter((r) => !rows.some((x) => x.row === r.row)),
    ...rows.map((r) => ({ ...r, date })),
  ].sort((a, b) => ROW_SPECS.findIndex((s) => s.row === a.row) - ROW_SPECS.findIndex((s) => s.row === b.row));
  writeFileSync(out, `${JSON.stringify({ ...summary, rows: merged }, null, 2)}\n`);
  console.log(`written ${out}`);
  const failed = rows.filter((r) => r.exitStatus !== 0 || r.reportError || r.check?.ok === false);
  if (failed.length > 0) {
    console.error(`failed: ${failed.map((r) => r.row).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
