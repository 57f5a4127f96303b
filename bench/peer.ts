// The engine beside the papers' reference code: for each model and point, the CLI
// (`npx tsx src/cli/main.ts … --json --quiet`) and then the torch peer (../shared/peer/torch_prune.py,
// the reference Wanda, SparseGPT and magnitude in PyTorch on CPU, with the CLI's calibration windows
// and evaluation), alternating, REPS times, each run its own process paying its own warm-up. Reports
// the medians, the ratio ours / peer and both sides' bits/byte; prints a markdown table and the load
// average before and after, and writes every run's numbers to bench/results/peer-<date>.json.
//
// What is timed, each side by its own report:
//   eval         one evaluation pass of the dense model: the CLI's `eval` timeMs.evaluate against the
//                peer's `--methods none --dense` timeMs.evaluate.
//   <method>-<s> calibration and pruning: the CLI's timeMs.calibration + timeMs.prune against the
//                peer's timeMs.calibrationAndPrune. The CLI's calibration time includes tokenizing the
//                calibration text and drawing the windows; the peer draws them while loading, outside
//                its timer (the bench times the CLI's tokenizing alone and prints it beside the table).
// Which mode each side runs:
//   this engine  TF.js's WASM backend in Node, one thread. Wanda with --calib-mode sequential (its
//                default for language models, given explicitly): each block calibrated on the outputs
//                of the already-pruned blocks before it. SparseGPT with --calib-mode sequential (its
//                default), scope layer. Magnitude per layer, no calibration. The default
//                --memory-budget, half the machine's memory, holds either model whole as the peer does
//                (GPT-2 small's runs peak under 4 GB); below that the CLI would stream it block by block.
//   peer         --threads 1 (torch and OpenBLAS on one thread; the script sets its own runtime
//                environment: passive OpenMP waiting, glibc malloc thresholds). `wanda` is
//                locuslab/wanda prune_wanda, sequential; `sparsegpt` IST-DASLab's opt_sequential
//                (blocksize 128, percdamp 0.01); `magnitude` prune_magnitude, per matrix.
// So each pair runs the same algorithm, and their bits/byte should agree: |Δ| > 1e-3 is flagged.
//
// Models (MODELS, default gpt-bytes):
//   gpt-bytes         public/models/gpt-bytes with its own calib/eval.safetensors, on both sides.
//   vit-fashion       public/models/vit-fashion with its own calib/eval.safetensors. The peer is
//                     bench/peer-vit.py (the reference repositories have no ViT classifier): the
//                     same magnitude and Wanda in PyTorch, Wanda's statistics from one pass of the
//                     dense model as the engine's one-shot mode (its default for a ViT) computes
//                     them; the points eval, magnitude-0.5 and wanda-0.5; the metric top-1 accuracy.
//   gpt2-small-shape  the checkpoint bench/real-sizes.ts builds (bench/lib/gpt2-small-shape.ts), read
//                     by the CLI as that bench does: KJV text, 16 calibration and 16 evaluation windows
//                     of 128 tokens. The peer reads a copy laid out for it (bench/lib/peer-inputs.ts,
//                     data-cache/gpt2-small-shape-peer): the same weights and shapes, the same counts of
//                     windows and tokens, so the times compare; but the peer reads each byte as a
//                     token where the CLI reads the checkpoint's BPE tokens, so the windows' tokens and
//                     the bits/byte do not, and no |Δ| is given. The weights are random.
// Points (POINTS, default all): eval, magnitude-0.5, wanda-0.5, wanda-2:4, sparsegpt-0.5, sparsegpt-2:4.
//
//   npm run -s bench:peer                                   gpt-bytes, every point, 2 reps
//   REPS=1 POINTS=eval,wanda-0.5 npm run -s bench:peer
//   MODELS=gpt2-small-shape POINTS=eval,magnitude-0.5 npm run -s bench:peer
// The day's file keeps the rows and runs of the models and points a run did not measure.
// Needs /usr/bin/python3 with torch, numpy and OpenBLAS (../shared/peer/README.md).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { runEnvironment } from './lib/environment';
import { join } from 'node:path';
import { readSafetensors } from '../src/engine/io/safetensors';
import { loadTokenizer } from '../src/engine/model/tokenizer';
import { parseConfig, type VitConfig } from '../src/engine/model/config';
import { classifierBatch } from '../src/engine/eval/metrics';
import { makeCalibration } from '../src/engine/pruning/calibration';
import { DEFAULT_CALIBRATION } from '../src/engine/eval/pruner';
import { loadKjv } from '../scripts/data/kjv';
import { writeGpt2SmallShape } from './lib/gpt2-small-shape';
import { median } from './lib/median';
import { writePeerInputs } from './lib/peer-inputs';
import { markdownTable, type TimedRun, timedCli, timedCommand } from './lib/real-size-runs';

const PYTHON = '/usr/bin/python3';
const PEER_SCRIPT = '../shared/peer/torch_prune.py';
const VIT_PEER_SCRIPT = 'bench/peer-vit.py';
const GPT_BYTES = 'public/models/gpt-bytes';
const VIT = 'public/models/vit-fashion';
const GPT2 = 'data-cache/gpt2-small-shape';
const GPT2_PEER = 'data-cache/gpt2-small-shape-peer';
const CALIB = 'data-cache/kjv-train.txt';
const EVAL = 'data-cache/kjv-heldout.txt';
const GPT2_WINDOWS = { calib: 16, eval: 16, length: 128 };
/** The largest |Δ| of the metric (bits/byte, or accuracy) between the two sides' same algorithm taken as agreement. */
const AGREE = 1e-3;
const MB = 1e6;

interface ModelSpec {
  id: string;
  /** CLI flags of every command: the model and its evaluation data. */
  cli: string[];
  /** CLI flags of a calibrated prune: the calibration data and mode. */
  cliCalib: string[];
  /** The peer's script and flags: its model directory and calibration count. */
  peerScript: string;
  peer: string[];
  /** The points the peer can run; every point when absent. */
  points?: string[];
  /** Both sides read the same token ids, so their metrics compare. */
  sameTokens: boolean;
  /** Writes what the runs read; returns what it wrote, for the results. */
  prepare: () => Promise<Record<string, unknown>>;
  /** The CLI's calibration text, windows and model directory, for timing its cutting of the windows (text models). */
  calibText?: () => { text: Uint8Array; dir: string; count: number; length?: number };
}

const MODEL_SPECS: ModelSpec[] = [
  {
    id: 'gpt-bytes',
    cli: ['--model', GPT_BYTES],
    cliCalib: ['--calib-mode', 'sequential'],
    peerScript: PEER_SCRIPT,
    peer: ['--model', GPT_BYTES],
    sameTokens: true,
    prepare: async () => ({ dir: GPT_BYTES }),
    calibText: () => ({
      text: readSafetensors(readFileSync(join(GPT_BYTES, 'calib.safetensors'))).tensors.get('bytes')!
        .data as Uint8Array,
      dir: GPT_BYTES,
      count: DEFAULT_CALIBRATION['causal-lm'].count,
    }),
  },
  {
    id: 'vit-fashion',
    cli: ['--model', VIT],
    cliCalib: ['--calib-mode', 'one-shot'],
    peerScript: VIT_PEER_SCRIPT,
    // The engine's batch of images (metrics.ts), so both sides evaluate the same batches.
    peer: [
      '--model',
      VIT,
      '--eval-batch',
      `${classifierBatch(parseConfig(JSON.parse(readFileSync(join(VIT, 'config.json'), 'utf8'))) as VitConfig)}`,
    ],
    points: ['eval', 'magnitude-0.5', 'wanda-0.5'],
    sameTokens: true,
    prepare: async () => ({ dir: VIT }),
  },
  {
    id: 'gpt2-small-shape',
    cli: [
      '--model',
      GPT2,
      '--eval',
      EVAL,
      '--eval-count',
      `${GPT2_WINDOWS.eval}`,
      '--seq-len',
      `${GPT2_WINDOWS.length}`,
    ],
    cliCalib: ['--calib', CALIB, '--calib-count', `${GPT2_WINDOWS.calib}`, '--calib-mode', 'sequential'],
    peerScript: PEER_SCRIPT,
    peer: ['--model', GPT2_PEER, '--calib-count', `${GPT2_WINDOWS.calib}`],
    sameTokens: false,
    prepare: async () => {
      const kjv = loadKjv();
      mkdirSync('data-cache', { recursive: true });
      writeFileSync(CALIB, kjv.train);
      writeFileSync(EVAL, kjv.heldOut);
      const checkpointBytes = writeGpt2SmallShape(GPT2);
      const peer = await writePeerInputs({
        source: GPT2,
        dir: GPT2_PEER,
        context: GPT2_WINDOWS.length,
        calib: kjv.train,
        eval: kjv.heldOut,
        evalWindows: GPT2_WINDOWS.eval,
      });
      return { dir: GPT2, checkpointBytes, calib: CALIB, eval: EVAL, peerInputs: peer };
    },
    calibText: () => ({ text: readFileSync(CALIB), dir: GPT2, count: GPT2_WINDOWS.calib, length: GPT2_WINDOWS.length }),
  },
];

interface PointSpec {
  id: string;
  label: string;
  /** Reads calibration data (the CLI gets the model's calibration flags). */
  calibrated: boolean;
  cli: string[];
  peer: string[];
}

function prunePoint(method: 'magnitude' | 'wanda' | 'sparsegpt', label: string, config: '0.5' | '2:4'): PointSpec {
  const calibrated = method !== 'magnitude';
  return {
    id: `${method}-${config}`,
    label: `${label} ${config === '2:4' ? '2:4' : '50%'}`,
    calibrated,
    cli: [...['prune', '--method', method, '--sparsity', '0.5'], ...(config === '2:4' ? ['--nm', '2:4'] : [])],
    peer: ['--methods', method, '--configs', config],
  };
}

const POINT_SPECS: PointSpec[] = [
  {
    id: 'eval',
    label: 'one evaluation pass',
    calibrated: false,
    cli: ['eval'],
    peer: ['--methods', 'none', '--dense'],
  },
  prunePoint('magnitude', 'magnitude', '0.5'),
  prunePoint('wanda', 'Wanda', '0.5'),
  prunePoint('wanda', 'Wanda', '2:4'),
  prunePoint('sparsegpt', 'SparseGPT', '0.5'),
  prunePoint('sparsegpt', 'SparseGPT', '2:4'),
];

function pick<T extends { id: string }>(name: string, all: T[], fallback: string[]): T[] {
  const ids = (process.env[name]?.split(',') ?? fallback).map((s) => s.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !all.some((x) => x.id === id));
  if (unknown.length > 0) {
    console.error(`${name}: unknown ${unknown.join(', ')} (known: ${all.map((x) => x.id).join(', ')})`);
    process.exit(2);
  }
  return all.filter((x) => ids.includes(x.id));
}

// ---- Runs ----

type Side = 'ours' | 'peer';

interface RunRecord {
  date: string;
  model: string;
  point: string;
  rep: number;
  side: Side;
  command: string;
  exitStatus: number | null;
  signal: string | null;
  wallS: number;
  peakRssMB: number | null;
  cpuPercent: number | null;
  /** The time compared, ms (see the header). */
  ms: number | null;
  /** The side's own timings as its report gives them, ms. */
  timeMs: Record<string, number> | null;
  bitsPerByte: number | null;
  accuracy: number | null;
  sparsity: number | null;
  /** The peer's torch, threads, BLAS, runtime environment and load time. */
  peer?: Record<string, unknown>;
  error?: string;
}

/** What both sides' reports hold of a measured model: the CLI's report, or one of the peer's results. */
interface Measured {
  timeMs: Record<string, number>;
  metric?: { bitsPerByte?: number; accuracy?: number };
  sparsity?: number;
}

interface PeerReport {
  torch: string;
  threads: number;
  interopThreads: number;
  blas: string[] | null;
  env: Record<string, string | null>;
  loadMs: number;
  results: Measured[];
  dense?: Measured;
}

/** The compared time, metric and sparsity of a side's JSON report. */
function readReport(
  side: Side,
  point: PointSpec,
  json: Measured | PeerReport,
): Pick<RunRecord, 'ms' | 'timeMs' | 'bitsPerByte' | 'accuracy' | 'sparsity'> {
  if (side === 'ours') {
    const t = (json as Measured).timeMs;
    return {
      ms: point.id === 'eval' ? t.evaluate : t.calibration + t.prune,
      timeMs: t,
      bitsPerByte: (json as Measured).metric?.bitsPerByte ?? null,
      accuracy: (json as Measured).metric?.accuracy ?? null,
      sparsity: (json as Measured).sparsity ?? null,
    };
  }
  const peer = json as PeerReport;
  const r = point.id === 'eval' ? peer.dense : peer.results[0];
  if (!r) throw new Error(`no ${point.id === 'eval' ? 'dense' : 'pruned'} result in the report`);
  return {
    ms: point.id === 'eval' ? r.timeMs.evaluate : r.timeMs.calibrationAndPrune,
    timeMs: r.timeMs,
    bitsPerByte: r.metric?.bitsPerByte ?? null,
    accuracy: r.metric?.accuracy ?? null,
    sparsity: r.sparsity ?? null,
  };
}

// The peer re-executes itself with its tuned runtime settings unless PEER_TUNED is set: a stray one
// here would run it untuned.
const PEER_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'PEER_TUNED'));

async function runSide(side: Side, model: ModelSpec, point: PointSpec, rep: number, date: string): Promise<RunRecord> {
  const run: TimedRun =
    side === 'ours'
      ? await timedCli([...point.cli, ...model.cli, ...(point.calibrated ? model.cliCalib : []), '--json', '--quiet'])
      : await timedCommand([PYTHON, '-B', model.peerScript, ...model.peer, '--threads', '1', ...point.peer], PEER_ENV);
  const record: RunRecord = {
    date,
    model: model.id,
    point: point.id,
    rep,
    side,
    command: run.command,
    exitStatus: run.exitStatus,
    signal: run.signal,
    wallS: run.wallS,
    peakRssMB: run.peakRssBytes === null ? null : run.peakRssBytes / MB,
    cpuPercent: run.cpuPercent,
    ms: null,
    timeMs: null,
    bitsPerByte: null,
    accuracy: null,
    sparsity: null,
  };
  if (run.exitStatus !== 0) return { ...record, error: run.stderrTail };
  try {
    const json = JSON.parse(run.stdout) as Measured | PeerReport;
    Object.assign(record, readReport(side, point, json));
    if (side === 'peer') {
      const { torch, threads, interopThreads, blas, env, loadMs } = json as PeerReport;
      record.peer = { torch, threads, interopThreads, blas, env, loadMs };
    }
  } catch (e) {
    record.error = `not the expected JSON report: ${(e as Error).message}: ${run.stdout.slice(-1000)}`;
  }
  return record;
}

// ---- Summary ----

interface SummaryRow {
  date: string;
  model: string;
  point: string;
  label: string;
  runs: { ours: number; peer: number };
  peerMs: number | null;
  oursMs: number | null;
  /** The engine's calibration and pruning apart (prune points). */
  oursCalibrationMs: number | null;
  oursPruneMs: number | null;
  /** Median ours / median peer. */
  ratio: number | null;
  peerBitsPerByte: number | null;
  oursBitsPerByte: number | null;
  peerAccuracy: number | null;
  oursAccuracy: number | null;
  /** |ours − peer| of the metric (bits/byte, or accuracy); null where either is missing or the sides read different tokens. */
  deltaBitsPerByte: number | null;
  deltaAccuracy: number | null;
  /** |Δ| > AGREE; null where not compared. */
  flagged: boolean | null;
  peerSparsity: number | null;
  oursSparsity: number | null;
  peerMsAll: number[];
  oursMsAll: number[];
}

const medianOf = (xs: (number | null | undefined)[]): number | null => {
  const ok = xs.filter((x): x is number => typeof x === 'number');
  return ok.length > 0 ? median(ok) : null;
};

function summarize(model: ModelSpec, point: PointSpec, runs: RunRecord[], date: string): SummaryRow {
  const side = (s: Side) => runs.filter((r) => r.side === s && r.ms !== null);
  const ours = side('ours');
  const peer = side('peer');
  const oursMs = medianOf(ours.map((r) => r.ms));
  const peerMs = medianOf(peer.map((r) => r.ms));
  const oursBpb = medianOf(ours.map((r) => r.bitsPerByte));
  const peerBpb = medianOf(peer.map((r) => r.bitsPerByte));
  const oursAcc = medianOf(ours.map((r) => r.accuracy));
  const peerAcc = medianOf(peer.map((r) => r.accuracy));
  const gap = (a: number | null, b: number | null) =>
    model.sameTokens && a !== null && b !== null ? Math.abs(a - b) : null;
  const delta = gap(oursBpb, peerBpb);
  const deltaAcc = gap(oursAcc, peerAcc);
  const either = delta ?? deltaAcc;
  const isPrune = point.id !== 'eval';
  return {
    date,
    model: model.id,
    point: point.id,
    label: point.label,
    runs: { ours: ours.length, peer: peer.length },
    peerMs,
    oursMs,
    oursCalibrationMs: isPrune ? medianOf(ours.map((r) => r.timeMs?.calibration)) : null,
    oursPruneMs: isPrune ? medianOf(ours.map((r) => r.timeMs?.prune)) : null,
    ratio: oursMs !== null && peerMs ? oursMs / peerMs : null,
    peerBitsPerByte: peerBpb,
    oursBitsPerByte: oursBpb,
    peerAccuracy: peerAcc,
    oursAccuracy: oursAcc,
    deltaBitsPerByte: delta,
    deltaAccuracy: deltaAcc,
    flagged: either === null ? null : either > AGREE,
    peerSparsity: medianOf(peer.map((r) => r.sparsity)),
    oursSparsity: medianOf(ours.map((r) => r.sparsity)),
    peerMsAll: peer.map((r) => r.ms!),
    oursMsAll: ours.map((r) => r.ms!),
  };
}

const seconds = (ms: number | null) =>
  ms === null ? 'failed' : `${(ms / 1000).toFixed(ms < 1000 ? 3 : ms < 100_000 ? 2 : 1)} s`;
/** A side's metric: bits/byte to 4 places, accuracy as a percentage. */
const metricText = (bits: number | null, accuracy: number | null) =>
  bits !== null ? bits.toFixed(4) : accuracy !== null ? `${(100 * accuracy).toFixed(2)}%` : '–';

function table(rows: SummaryRow[]): string {
  return markdownTable(
    ['model', 'point', 'peer, 1 thread', 'this engine', 'ours / peer', 'metric peer', 'metric ours', '|Δ|'],
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows.map((r) => {
      const parts =
        r.oursCalibrationMs !== null && r.oursPruneMs !== null
          ? ` (calibration ${seconds(r.oursCalibrationMs)} + pruning ${seconds(r.oursPruneMs)})`
          : '';
      const gap = r.deltaBitsPerByte ?? r.deltaAccuracy ?? null;
      const delta =
        gap === null
          ? MODEL_SPECS.find((m) => m.id === r.model)?.sameTokens === false
            ? 'n/a (BPE vs bytes)'
            : '–'
          : r.flagged
            ? `**${gap.toFixed(4)}** > ${AGREE}`
            : gap.toFixed(4);
      return [
        r.model,
        r.label,
        seconds(r.peerMs),
        `${seconds(r.oursMs)}${r.oursMs === null ? '' : parts}`,
        r.ratio === null ? '–' : `${r.ratio.toFixed(1)}×`,
        metricText(r.peerBitsPerByte, r.peerAccuracy ?? null),
        metricText(r.oursBitsPerByte, r.oursAccuracy ?? null),
        delta,
      ];
    }),
  );
}

/** The CLI's calibration windows cut from its text (tokenizing what they read), timed here: part of its calibration time. */
function tokenizeMs(model: ModelSpec): number | null {
  if (!model.calibText) return null;
  const { text, dir, count, length } = model.calibText();
  const read = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
  const config = parseConfig(read('config.json'));
  const tokenizer = loadTokenizer(read('tokenizer.json'), read('config.json'));
  const t0 = performance.now();
  makeCalibration(
    config,
    { source: 'custom', count, seed: 0, length, custom: { kind: 'text', bytes: text } },
    { train: null, heldOut: null, tokenizer },
  );
  return performance.now() - t0;
}

const order = (r: { model: string; point: string }) =>
  MODEL_SPECS.findIndex((m) => m.id === r.model) * POINT_SPECS.length + POINT_SPECS.findIndex((p) => p.id === r.point);
const byModelAndPoint = (a: { model: string; point: string }, b: { model: string; point: string }) =>
  order(a) - order(b);

const loadText = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');

// ---- Main ----

async function main() {
  const models = pick('MODELS', MODEL_SPECS, ['gpt-bytes']);
  const points = pick(
    'POINTS',
    POINT_SPECS,
    POINT_SPECS.map((p) => p.id),
  );
  const reps = Number(process.env.REPS ?? 2);
  if (!Number.isInteger(reps) || reps < 1) {
    console.error(`REPS: a positive integer, not ${process.env.REPS}`);
    process.exit(2);
  }
  for (const path of [PYTHON, ...new Set(models.map((m) => m.peerScript))])
    if (!existsSync(path)) {
      console.error(`${path} is missing: the peer needs it (../shared/peer/README.md)`);
      process.exit(2);
    }

  const date = new Date().toISOString();
  const prepared: Record<string, unknown>[] = [];
  for (const m of models) {
    const t0 = performance.now();
    const info = await m.prepare();
    const calibTokenizeMs = points.some((p) => p.calibrated) ? tokenizeMs(m) : null;
    prepared.push({
      id: m.id,
      cli: m.cli,
      cliCalib: m.cliCalib,
      peerScript: m.peerScript,
      peer: m.peer,
      sameTokens: m.sameTokens,
      calibTokenizeMs,
      ...info,
    });
    console.error(`== ${m.id}: ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  const loadavgStart = loadavg();
  const runs: RunRecord[] = [];
  const rows: SummaryRow[] = [];
  for (const m of models)
    for (const p of points) {
      if (m.points && !m.points.includes(p.id)) continue;
      const these: RunRecord[] = [];
      for (let rep = 1; rep <= reps; rep++) {
        for (const side of ['ours', 'peer'] as const) {
          const r = await runSide(side, m, p, rep, date);
          these.push(r);
          const what = r.error ? `FAILED (${r.signal ?? `exit ${r.exitStatus}`})` : seconds(r.ms);
          console.error(`== ${m.id} ${p.id} ${rep}/${reps} ${side}: ${what}`);
          if (r.error) console.error(r.error.slice(-2000));
        }
      }
      runs.push(...these);
      rows.push(summarize(m, p, these, date));
    }
  const loadavgEnd = loadavg();

  console.log(`\n${table(rows)}\n`);
  // bench/lib/median.ts: of an even count, the upper of the two middle values.
  const even = reps % 2 === 0 ? ' (the slower of the middle two)' : '';
  console.log(
    `medians${even} of ${reps} run${reps > 1 ? 's' : ''} a side, each its own process; ${cpus().length} CPUs`,
  );
  for (const m of prepared)
    if (typeof m.calibTokenizeMs === 'number')
      console.log(
        `${m.id}: cutting the calibration windows from the text (tokenizing what they read), part of the engine's calibration time: ${seconds(m.calibTokenizeMs)} (timed in the bench's process)`,
      );
  console.log(`load average (1, 5, 15 min): before ${loadText(loadavgStart)}, after ${loadText(loadavgEnd)}`);

  mkdirSync('bench/results', { recursive: true });
  const out = join('bench/results', `peer-${date.slice(0, 10)}.json`);
  // A run of some models or points keeps the day's others.
  const key = (r: { model: string; point: string }) => `${r.model} ${r.point}`;
  const measured = new Set(rows.map(key));
  const earlier = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : { rows: [], runs: [], models: [] };
  const summary = {
    date,
    ...runEnvironment(loadavgStart),
    reps,
    peer: { python: PYTHON, threads: 1 },
    models: [...(earlier.models as { id: string }[]).filter((x) => !prepared.some((m) => m.id === x.id)), ...prepared],
    rows: [...(earlier.rows as SummaryRow[]).filter((r) => !measured.has(key(r))), ...rows].sort(byModelAndPoint),
    runs: [...(earlier.runs as RunRecord[]).filter((r) => !measured.has(key(r))), ...runs].sort(byModelAndPoint),
  };
  writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`written ${out}`);
  const failed = runs.filter((r) => r.error);
  if (failed.length > 0) {
    console.error(`failed: ${failed.map((r) => `${r.model} ${r.point} ${r.side} rep ${r.rep}`).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
