// Recovery after pruning on the default models, side by side: vit-fashion pruned 80% by magnitude
// and gpt-bytes 70% by Wanda, then each recovery mode at its defaults (learning rate, batch of 8,
// the training split, seed 0) for each number of steps, on each backend: the metric before and
// after, time per update (evaluations left out) and the whole run. Rows are merged into the day's
// file by backend, model, mode and steps, each with the load around it, so that a quiet run of a
// few steps (time per update) and a long one (the metric) can be made apart:
//   npm run -s bench:recovery                                  (wasm, 100, 300 and 1,000 steps)
//   BACKENDS=wasm,webgpu STEPS=20 npm run -s bench:recovery    (time per update, SwiftShader's WebGPU)
//   DATA=kjv MODELS=gpt-bytes STEPS=1000 npm run -s bench:recovery
//                          (on gpt-bytes' whole training text, Debian's bible-kjv, as train:gpt splits it)
// The shipped training slice is 127 windows of gpt-bytes and 256 images of vit-fashion: 1,000
// updates of 8 go over it 63 and 31 times, and the held-out metric, measured every tenth of the
// run, shows when the model learns it by heart; the whole text is 30,748 windows.
// SwiftShader's WebGPU is a CPU: its figures compare backends here, they are no GPU speed claim.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { readModelDir } from '../src/cli/model-dir';
import { Pruner, type PruneRecipe } from '../src/engine/eval/pruner';
import { headlineOf } from '../src/engine/eval/headline';
import { type RecoveryDataSource, recoverPruned } from '../src/engine/eval/recovery';
import { passesText, pastItsPeak } from '../src/engine/eval/recovery-report';
import type { CurvePoint } from '../src/engine/recovery/recover';
import { loadKjv } from '../scripts/data/kjv';
import { RECOVERY_MODES, type RecoveryModeId } from '../src/engine/recovery/modes';
import { ModelSession } from '../src/engine/session';
import { type BackendName, useBackend } from './lib/backends';
import { runEnvironment } from './lib/environment';

const PRUNED: { model: string; recipe: PruneRecipe }[] = [
  { model: 'vit-fashion', recipe: { method: 'magnitude', sparsity: 0.8 } },
  { model: 'gpt-bytes', recipe: { method: 'wanda', sparsity: 0.7 } },
];
const list = (v: string | undefined, fallback: string) => (v ?? fallback).split(',').map((s) => s.trim());
const BACKENDS = list(process.env.BACKENDS, 'wasm') as BackendName[];
const MODELS = list(process.env.MODELS, PRUNED.map((p) => p.model).join(','));
const MODES = list(process.env.MODES, RECOVERY_MODES.map((m) => m.id).join(',')) as RecoveryModeId[];
const STEPS = list(process.env.STEPS, '100,300,1000').map(Number);
/** 'train': the slice the model ships (calib.safetensors); 'kjv': gpt-bytes' whole training text. */
const DATA = (process.env.DATA ?? 'train') as Row['dataSource'];
if (DATA !== 'train' && DATA !== 'kjv') throw new Error(`DATA: 'train' or 'kjv', got ${DATA}`);

function trainingData(model: string): RecoveryDataSource {
  if (DATA === 'train') return { source: 'train' };
  if (model !== 'gpt-bytes') throw new Error("DATA=kjv is gpt-bytes' training text: run it with MODELS=gpt-bytes");
  return { source: 'custom', name: 'kjv-train', set: { kind: 'text', bytes: loadKjv().train } };
}

interface Row {
  backend: string;
  device: string;
  model: string;
  recipe: PruneRecipe;
  mode: RecoveryModeId;
  steps: number;
  learningRate: number;
  batchSize: number;
  /** Where the examples came from (see DATA), in words, and how many times the run went over them. */
  dataSource: 'train' | 'kjv';
  data: string;
  passes: number;
  /** Accuracy (vit-fashion) or bits per byte (gpt-bytes) on the shipped eval set. */
  before: number;
  after: number;
  /** The metric every tenth of the run, and where it peaked when the end lost more than 1% of it. */
  metricCurve: CurvePoint[];
  peak: { step: number; best: number } | null;
  msPerStep: number | null;
  runS: number;
  loadavgStart: number[];
  loadavgEnd: number[];
  date: string;
}

// Rows from before the data was recorded trained on the shipped slice.
const key = (r: Pick<Row, 'backend' | 'model' | 'mode' | 'steps'> & Partial<Pick<Row, 'dataSource'>>) =>
  `${r.backend} ${r.model} ${r.dataSource ?? 'train'} ${r.mode} ${r.steps}`;

async function main() {
  const started = new Date().toISOString();
  const loadavgStart = loadavg();
  const rows: Row[] = [];
  mkdirSync('bench/results', { recursive: true });
  const out = join('bench/results', `recovery-${started.slice(0, 10)}.json`);
  // Each row is written as it is measured: a long run stopped part-way keeps what it measured.
  const save = (row: Row) => {
    const earlier: Row[] = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')).rows : [];
    const merged = [...earlier.filter((r) => key(r) !== key(row)), row].sort((a, b) =>
      key(a).localeCompare(key(b), 'en', { numeric: true }),
    );
    writeFileSync(out, `${JSON.stringify({ ...runEnvironment(loadavgStart), rows: merged }, null, 2)}\n`);
  };
  for (const backend of BACKENDS) {
    const device = await useBackend(backend);
    if (!device) {
      console.error(`${backend}: not available here, skipped`);
      continue;
    }
    for (const { model, recipe } of PRUNED.filter((p) => MODELS.includes(p.model))) {
      const session = ModelSession.open(readModelDir(`public/models/${model}`).files);
      // Read once a model: DATA=kjv runs Debian's `bible` over the whole book.
      const data = trainingData(model);
      const pruner = new Pruner(session);
      const { result } = await pruner.pruneAndMeasure(recipe);
      for (const mode of MODES)
        for (const steps of STEPS) {
          const rowStart = loadavg();
          const { report } = await recoverPruned(pruner, { result }, recipe, {
            mode,
            steps,
            batchSize: 8,
            seed: 0,
            data,
            evalEvery: Math.max(1, Math.round(steps / 10)),
          });
          const peak = pastItsPeak(report);
          const row: Row = {
            backend,
            device,
            model,
            recipe,
            mode,
            steps,
            learningRate: report.recovery.learningRate,
            batchSize: report.recovery.batchSize,
            dataSource: DATA,
            data: report.data,
            passes: report.passes,
            before: headlineOf(report.before),
            after: headlineOf(report.after),
            metricCurve: report.metricCurve,
            peak: peak && { step: peak.step, best: peak.best },
            msPerStep: report.msPerStep,
            runS: report.timeMs / 1000,
            loadavgStart: rowStart,
            loadavgEnd: loadavg(),
            date: new Date().toISOString(),
          };
          rows.push(row);
          save(row);
          console.error(
            `${model} ${mode} ${steps} steps on ${device}: ${row.before.toFixed(4)} → ${row.after.toFixed(4)}, ` +
              `${row.msPerStep?.toFixed(1)} ms per update, ${row.runS.toFixed(1)} s in all; ${report.data}, ` +
              `${passesText(report.passes)}${peak ? `. ${peak.text}` : ''}`,
          );
        }
      session.dispose();
    }
  }

  console.log('\n| model | backend | data | mode | steps | before | after | best measured | ms per update |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.model} | ${r.backend} | ${r.dataSource} (${passesText(r.passes)}) | ${r.mode} | ${r.steps} | ${r.before.toFixed(4)} | ${r.after.toFixed(4)} | ${r.peak ? `${r.peak.best.toFixed(4)} at ${r.peak.step}` : '—'} | ${r.msPerStep?.toFixed(1)} |`,
    );
  console.log(`written ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
