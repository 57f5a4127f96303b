// The CLI's commands on top of the engine: ModelSession + Pruner for prune/sweep/eval, the
// checkpoint exporter for export.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_CALIBRATION, Pruner, type PruneRecipe, type PruneReport, type RunOptions } from '../engine/eval/pruner';
import type { ModelSession } from '../engine/session';
import { DEFAULT_SCOPE, type UnstructuredResult } from '../engine/pruning/unstructured';
import type { CalibrationSpec } from '../engine/pruning/calibration';
import { loadCheckpoint } from '../engine/model/checkpoint';
import { CONFIG_FILE, exportCheckpoint, recipeToJson, WEIGHTS_FILE, type ExportedRecipe, RECIPE_FILE } from '../engine/export/checkpoint-export';
import type { ParsedCommand, RecipeArgs } from './args';
import { CliError } from './errors';
import { bytes, metricLine, pointText, reportText, summaryText } from './format';
import { openSession, readCalibrationFile, readModelDir, type ModelDir } from './model-dir';
import type { ErrStream, Progress } from './progress';

export interface OutStream {
  write(s: string): unknown;
}

export interface Context {
  stdout: OutStream;
  stderr: ErrStream;
  signal: AbortSignal;
  progress: Progress;
}

type Of<C extends ParsedCommand['command']> = Extract<ParsedCommand, { command: C; help: false }>;

const needsCalibration = (r: RecipeArgs) =>
  r.method === 'wanda' || r.method === 'sparsegpt' || r.method === 'taylor' || r.allocation === 'owl' || r.allocation === 'sensitivity';

/** The recipe with every default filled in, so a report says exactly what ran. */
export function buildRecipe(a: RecipeArgs, sparsity: number, session: ModelSession): PruneRecipe {
  const kind = session.config.kind;
  let calibration: CalibrationSpec | undefined;
  if (needsCalibration(a) || a.calib || a.calibCount !== undefined) {
    const source = a.calib?.source ?? 'train';
    calibration = { source, count: a.calibCount ?? DEFAULT_CALIBRATION[kind].count, seed: a.seed ?? 0 };
    if (a.calib?.source === 'custom') calibration.custom = readCalibrationFile(a.calib.path, session.config);
  }
  return {
    method: a.method,
    sparsity,
    scope: a.nm ? undefined : (a.scope ?? DEFAULT_SCOPE[a.method]),
    nm: a.nm,
    allocation: a.nm ? 'uniform' : a.allocation,
    calibration,
    seed: a.seed ?? 0,
  };
}

/** A report as JSON (a custom calibration set is described, not embedded). */
export function reportJson(r: PruneReport): Record<string, unknown> {
  return { ...r, recipe: recipeToJson(r.recipe) };
}

function load(dir: string, ctx: Context): { md: ModelDir; session: ModelSession } {
  ctx.progress.update('loading model', 0);
  const md = readModelDir(dir);
  const session = openSession(md);
  ctx.progress.done();
  return { md, session };
}

function runOptions(ctx: Context): RunOptions {
  return { signal: ctx.signal, onProgress: (stage, f) => ctx.progress.update(stage, f) };
}

export async function runPrune(a: Of<'prune'>, ctx: Context): Promise<void> {
  const { session } = load(a.model, ctx);
  try {
    const recipe = buildRecipe(a, a.sparsity, session);
    const report = await new Pruner(session).measure(recipe, runOptions(ctx));
    ctx.progress.done();
    ctx.stdout.write(a.json ? JSON.stringify(reportJson(report), null, 2) + '\n' : reportText(report));
  } finally {
    session.dispose();
  }
}

export async function runSweep(a: Of<'sweep'>, ctx: Context): Promise<void> {
  const { session } = load(a.model, ctx);
  try {
    const { sparsity: _, ...base } = buildRecipe(a, 0, session);
    const pruner = new Pruner(session);
    let i = 0;
    ctx.progress.prefix = `[1/${a.sparsities.length}] `;
    for await (const report of pruner.sweep(base, a.sparsities, runOptions(ctx))) {
      i++;
      ctx.progress.done();
      ctx.stdout.write(a.json ? JSON.stringify(reportJson(report)) + '\n' : pointText(report) + '\n');
      ctx.progress.prefix = `[${i + 1}/${a.sparsities.length}] `;
    }
    ctx.progress.done();
    if (ctx.signal.aborted) throw ctx.signal.reason;
  } finally {
    session.dispose();
  }
}

export async function runEval(a: Of<'eval'>, ctx: Context): Promise<void> {
  const { session } = load(a.model, ctx);
  try {
    const summary = session.summary();
    const t0 = performance.now();
    const metric = session.evalSet ? await session.evaluate({ signal: ctx.signal, onProgress: (f) => ctx.progress.update('evaluating', f) }) : null;
    const evaluateMs = performance.now() - t0;
    ctx.progress.done();
    if (a.json) {
      const { blocks: _b, linears: _l, ...cost } = summary.cost;
      const out = {
        model: a.model,
        architecture: summary.architecture,
        layers: summary.layers,
        heads: summary.heads,
        hidden: summary.hidden,
        ffn: summary.ffn,
        sequence: summary.sequence,
        vocabSize: summary.vocabSize,
        labels: summary.labels,
        evalSet: summary.evalSet,
        ignoredTensors: summary.ignoredTensors,
        cost: { ...cost, bytes: 4 * cost.params, blockParams: summary.cost.blocks.map((b) => b.params), blockFlops: summary.cost.blocks.map((b) => b.denseFlops) },
        metric,
        timeMs: { evaluate: evaluateMs },
      };
      ctx.stdout.write(JSON.stringify(out, null, 2) + '\n');
    } else {
      ctx.stdout.write(summaryText(a.model, summary, metric));
    }
  } finally {
    session.dispose();
  }
}

const CHECKPOINT_FILES = [CONFIG_FILE, WEIGHTS_FILE];

function checkOutDir(out: string, model: string, force: boolean): void {
  if (resolve(out) === resolve(model)) throw new CliError(`--out ${out} is the source model directory; choose another`);
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new CliError(`--out ${out} exists and is not a directory`);
  const held = CHECKPOINT_FILES.filter((f) => existsSync(join(out, f)));
  if (held.length && !force) throw new CliError(`${out} already holds a checkpoint (${held.join(', ')}); pass --force to overwrite it`);
}

export async function runExport(a: Of<'export'>, ctx: Context): Promise<void> {
  checkOutDir(a.out, a.model, a.force);
  const { md, session } = load(a.model, ctx);
  try {
    const recipe = buildRecipe(a, a.sparsity, session);
    const pruner = new Pruner(session);
    let report: PruneReport | null = null;
    let result: UnstructuredResult;
    let calibration: string | null;
    let blockSparsity: number[];
    let denseMetric = null;
    if (session.evalSet) {
      ({ report, result } = await pruner.pruneAndMeasure(recipe, runOptions(ctx)));
      ({ calibration, blockSparsity } = report);
      denseMetric = await session.evaluate({ signal: ctx.signal, onProgress: (f) => ctx.progress.update('evaluating the dense model', f) });
    } else {
      ctx.progress.note(`note: ${md.dir} has no eval.safetensors; the export is not measured`);
      const p = await pruner.prune(recipe, runOptions(ctx));
      ({ result, calibration, blockSparsity } = p);
    }
    ctx.progress.update('writing', 0);
    const files = exportCheckpoint({
      config: session.config,
      weights: session.checkpoint.weights,
      masks: result.masks,
      replaced: result.weights,
      extraFiles: md.extraFiles,
      provenance: {
        source: md.dir,
        recipe,
        calibration,
        blockSparsity,
        report,
        denseMetric,
        notes: a.calib?.source === 'custom' ? [`calibration data read from ${a.calib.path}`] : [],
      },
    });
    // What we write must load back: same check as opening a model.
    loadCheckpoint({
      config: JSON.parse(new TextDecoder().decode(files.get(CONFIG_FILE)!)),
      weights: files.get(WEIGHTS_FILE)!,
      tokenizer: md.files.tokenizer,
    });
    mkdirSync(a.out, { recursive: true });
    for (const [name, b] of files) writeFileSync(join(a.out, name), b);
    ctx.progress.done();
    const written = [...files].map(([name, b]) => ({ name, bytes: b.length }));
    const recipeJson = JSON.parse(new TextDecoder().decode(files.get(RECIPE_FILE)!)) as ExportedRecipe;
    if (a.json) {
      ctx.stdout.write(JSON.stringify({ out: a.out, files: written, recipe: recipeJson }, null, 2) + '\n');
    } else {
      if (report) ctx.stdout.write(reportText(report));
      if (denseMetric) ctx.stdout.write(`${'dense'.padEnd(13)} ${metricLine(denseMetric)}\n`);
      ctx.stdout.write(`\nwrote ${a.out}:\n`);
      for (const f of written) ctx.stdout.write(`  ${f.name.padEnd(26)} ${bytes(f.bytes)}\n`);
    }
  } finally {
    session.dispose();
  }
}
