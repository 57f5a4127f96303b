// The CLI's commands on top of the engine: ModelSession + Pruner for prune/sweep/eval, the
// checkpoint exporter for export.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  DEFAULT_CALIBRATION,
  measuredSparsity,
  Pruner,
  type PruneRecipe,
  type PruneReport,
  type RunOptions,
  type StructuredPruneRecipe,
  type StructuredReport,
} from '../engine/eval/pruner';
import type { ModelSession } from '../engine/session';
import { allocationDefaults, familyOf } from '../engine/pruning/catalogue';
import { checkRecipe, needsCalibration, resolvePruneRecipe, resolveStructuredRecipe } from '../engine/pruning/recipe';
import type { UnstructuredResult } from '../engine/pruning/unstructured';
import type { CalibrationSpec } from '../engine/pruning/calibration';
import { gatherWeightFiles, loadCheckpoint, WEIGHTS_FILE } from '../engine/model/checkpoint';
import { INDEX_FILE } from '../engine/io/shard-index';
import { numLayers } from '../engine/model/config';
import { planStructured, type StructuredPlan } from '../engine/pruning/structured/recipe';
import {
  CONFIG_FILE,
  exportCheckpoint,
  recipeToJson,
  type ExportedRecipe,
  RECIPE_FILE,
} from '../engine/export/checkpoint-export';
import type { StructuralPruning } from '../engine/export/structure';
import { type ParsedCommand, prunesWeights, type RecipeArgs, type StructuredArgs, type WeightArgs } from './args';
import { CliError, UsageError } from './errors';
import { bytes, metricLine, pointText, reportText, summaryText } from './format';
import { openSession, readCalibrationFile, readModelDir, type ModelDir } from './model-dir';
import { FILE_SOURCE, OPTIONS } from './options';
import { isRemoteModel, modelDirOf } from './remote';
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

/**
 * The recipe given its calibration data when its choices read any (the catalogue's needs) or a
 * calibration option was given. Called after checkRecipe: a refused recipe reads no calibration file.
 */
function withCalibration<R extends PruneRecipe | StructuredPruneRecipe>(r: R, a: RecipeArgs, session: ModelSession): R {
  const family = familyOf(session.config.kind);
  if (!needsCalibration(r, family) && a.calib === undefined && a.calibCount === undefined) return r;
  const calibration: CalibrationSpec = {
    source: a.calib?.source ?? OPTIONS.calib.default,
    count: a.calibCount ?? DEFAULT_CALIBRATION[family].count,
    seed: a.seed ?? OPTIONS.seed.default,
  };
  if (a.calib?.source === FILE_SOURCE) calibration.custom = readCalibrationFile(a.calib.path, session.config);
  return { ...r, calibration };
}

/**
 * The recipe with every default filled in (scope, allocation and its parameters, calibration mode,
 * seed), so a report says exactly what ran; refused by the catalogue when the model's family
 * cannot honour it.
 */
export function buildRecipe(a: WeightArgs, sparsity: number, session: ModelSession): PruneRecipe {
  const family = familyOf(session.config.kind);
  const allocation = a.allocation ?? OPTIONS.allocation.default;
  const parameters = { ...allocationDefaults(allocation), ...a.allocationParameters };
  const given: PruneRecipe = {
    method: a.method,
    sparsity,
    scope: a.scope,
    nm: a.nm,
    allocation,
    ...(allocation === 'owl' ? { owl: { m: parameters.m, lambda: parameters.lambda } } : {}),
    calibrationMode: a.calibrationMode,
    seed: a.seed ?? OPTIONS.seed.default,
  };
  checkRecipe(given, family);
  return withCalibration(resolvePruneRecipe(given, family), a, session);
}

/** A structured recipe with every default filled in (score, scope, first token-pruned block); `amount` is the fraction removed. */
export function buildStructuredRecipe(a: StructuredArgs, amount: number, session: ModelSession): StructuredPruneRecipe {
  const family = familyOf(session.config.kind);
  const given: StructuredPruneRecipe = { granularity: a.granularity, amount, score: a.score, scope: a.scope };
  if (a.tokenFrom !== undefined) given.tokenFrom = a.tokenFrom;
  checkRecipe(given, family);
  const r = resolveStructuredRecipe(given, family);
  if (r.tokenFrom !== undefined) {
    const layers = numLayers(session.config);
    if (r.tokenFrom >= layers)
      throw new UsageError(
        `--token-from ${r.tokenFrom}: the model has ${layers} blocks (0 to ${layers - 1}); block 0 is never token-pruned`,
      );
  }
  return withCalibration(r, a, session);
}

/** A report as JSON (a custom calibration set is described, not embedded). */
export function reportJson(r: PruneReport | StructuredReport): Record<string, unknown> {
  return { ...r, recipe: recipeToJson(r.recipe) };
}

async function load(
  a: { model: string; hub?: string; cache?: string },
  ctx: Context,
): Promise<{ md: ModelDir; session: ModelSession }> {
  const dir = await modelDirOf(a.model, {
    hub: a.hub,
    cache: a.cache,
    signal: ctx.signal,
    onProgress: (label, f) => ctx.progress.update(label, f),
    note: (m) => ctx.progress.note(m),
  });
  ctx.progress.update('loading model', 0);
  const md = readModelDir(dir);
  const session = openSession(md);
  ctx.progress.done();
  // Not progress: printed under --quiet too.
  for (const w of session.checkpoint.warnings) ctx.stderr.write(`warning: ${w}\n`);
  return { md, session };
}

function runOptions(ctx: Context): RunOptions {
  return { signal: ctx.signal, onProgress: (stage, f) => ctx.progress.update(stage, f) };
}

export async function runPrune(a: Of<'prune'>, ctx: Context): Promise<void> {
  const { session } = await load(a, ctx);
  try {
    const pruner = new Pruner(session);
    const report = prunesWeights(a)
      ? await pruner.measure(buildRecipe(a, a.sparsity, session), runOptions(ctx))
      : await pruner.measureStructured(buildStructuredRecipe(a, a.sparsity, session), runOptions(ctx));
    ctx.progress.done();
    ctx.stdout.write(a.json ? `${JSON.stringify(reportJson(report), null, 2)}\n` : reportText(report));
  } finally {
    session.dispose();
  }
}

export async function runSweep(a: Of<'sweep'>, ctx: Context): Promise<void> {
  const { session } = await load(a, ctx);
  try {
    const pruner = new Pruner(session);
    const n = a.sparsities.length;
    const print = (report: PruneReport | StructuredReport) => {
      ctx.progress.done();
      ctx.stdout.write(a.json ? `${JSON.stringify(reportJson(report))}\n` : `${pointText(report)}\n`);
    };
    ctx.progress.prefix = `[1/${n}] `;
    if (prunesWeights(a)) {
      const { sparsity: _, ...base } = buildRecipe(a, 0, session);
      let i = 0;
      for await (const report of pruner.sweep(base, a.sparsities, runOptions(ctx))) {
        i++;
        print(report);
        ctx.progress.prefix = `[${i + 1}/${n}] `;
      }
    } else {
      // One structured point per amount; the Pruner keeps the calibration data between them.
      const base = buildStructuredRecipe(a, 0, session);
      for (const [i, amount] of a.sparsities.entries()) {
        ctx.signal.throwIfAborted();
        ctx.progress.prefix = `[${i + 1}/${n}] `;
        print(await pruner.measureStructured({ ...base, amount }, runOptions(ctx)));
      }
    }
    ctx.progress.done();
  } finally {
    session.dispose();
  }
}

export async function runEval(a: Of<'eval'>, ctx: Context): Promise<void> {
  const { session } = await load(a, ctx);
  try {
    const summary = session.summary();
    const t0 = performance.now();
    const metric = session.evalSet
      ? await session.evaluate({ signal: ctx.signal, onProgress: (f) => ctx.progress.update('evaluating', f) })
      : null;
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
        warnings: summary.warnings,
        cost: {
          ...cost,
          bytes: 4 * cost.params,
          blockParams: summary.cost.blocks.map((b) => b.params),
          blockFlops: summary.cost.blocks.map((b) => b.denseFlops),
        },
        metric,
        timeMs: { evaluate: evaluateMs },
      };
      ctx.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else {
      ctx.stdout.write(summaryText(a.model, summary, metric));
    }
  } finally {
    session.dispose();
  }
}

const CHECKPOINT_FILES = [CONFIG_FILE, WEIGHTS_FILE, INDEX_FILE];

function checkOutDir(out: string, model: string, force: boolean): void {
  if (resolve(out) === resolve(model)) throw new CliError(`--out ${out} is the source model directory; choose another`);
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new CliError(`--out ${out} exists and is not a directory`);
  const held = CHECKPOINT_FILES.filter((f) => existsSync(join(out, f)));
  if (held.length && !force)
    throw new CliError(`${out} already holds a checkpoint (${held.join(', ')}); pass --force to overwrite it`);
}

/** What an export writes besides the source: the pruning, its provenance, what was measured. */
interface Pruned {
  masks: Map<string, Uint8Array> | null;
  replaced: UnstructuredResult['weights'] | null;
  structure?: StructuralPruning;
  recipe: PruneRecipe | StructuredPruneRecipe;
  calibration: string | null;
  blockSparsity?: number[];
  report: PruneReport | StructuredReport | null;
  notes: string[];
}

async function pruneUnstructuredForExport(
  a: Of<'export'> & WeightArgs,
  session: ModelSession,
  md: ModelDir,
  ctx: Context,
): Promise<Pruned> {
  const recipe = buildRecipe(a, a.sparsity, session);
  const pruner = new Pruner(session);
  if (session.evalSet) {
    const { report, result } = await pruner.pruneAndMeasure(recipe, runOptions(ctx));
    return {
      masks: result.masks,
      replaced: result.weights,
      recipe,
      calibration: report.calibration,
      blockSparsity: report.blockSparsity,
      report,
      notes: [],
    };
  }
  ctx.progress.note(`note: ${md.dir} has no eval.safetensors; the export is not measured`);
  const p = await pruner.prune(recipe, runOptions(ctx));
  return {
    masks: p.result.masks,
    replaced: p.result.weights,
    recipe: p.recipe,
    calibration: p.calibration,
    blockSparsity: measuredSparsity(session.config, p.result.masks).blockSparsity,
    report: null,
    notes: [],
  };
}

/**
 * The structural masks of a structured recipe (heads, neurons, blocks, sublayers), and its measured
 * report when the model has an eval set.
 */
async function pruneStructuredForExport(
  a: Of<'export'> & StructuredArgs,
  session: ModelSession,
  md: ModelDir,
  ctx: Context,
): Promise<Pruned> {
  const recipe = buildStructuredRecipe(a, a.sparsity, session);
  const pruner = new Pruner(session);
  let report: StructuredReport | null = null;
  let plan: StructuredPlan;
  let calibration: string | null;
  if (session.evalSet) {
    ({ report, plan } = await pruner.pruneAndMeasureStructured(recipe, runOptions(ctx)));
    calibration = report.calibration;
  } else {
    ctx.progress.note(`note: ${md.dir} has no eval.safetensors; the export is not measured`);
    const calib = recipe.calibration ? await pruner.calibration(recipe.calibration) : null;
    plan = await planStructured(session.config, session.weights, calib, recipe, {
      signal: ctx.signal,
      onProgress: (f) => ctx.progress.update('pruning', f),
    });
    calibration = calib?.description ?? null;
  }
  const { heads, neurons, attention, mlp } = plan.masks;
  return {
    masks: null,
    replaced: null,
    structure: { heads, neurons, attention, mlp },
    recipe,
    calibration,
    report,
    notes: [`structured pruning: ${plan.summary}`],
  };
}

export async function runExport(a: Of<'export'>, ctx: Context): Promise<void> {
  checkOutDir(a.out, a.model, a.force);
  const { md, session } = await load(a, ctx);
  try {
    const p = prunesWeights(a)
      ? await pruneUnstructuredForExport(a, session, md, ctx)
      : await pruneStructuredForExport(a, session, md, ctx);
    const denseMetric = p.report
      ? await session.evaluate({
          signal: ctx.signal,
          onProgress: (f) => ctx.progress.update('evaluating the dense model', f),
        })
      : null;
    ctx.progress.update('writing', 0);
    const files = exportCheckpoint({
      config: session.config,
      weights: session.checkpoint.weights,
      source: session.checkpoint,
      masks: p.masks,
      replaced: p.replaced,
      structure: p.structure,
      extraFiles: md.extraFiles,
      provenance: {
        source: isRemoteModel(a.model) ? a.model : md.dir,
        recipe: p.recipe,
        calibration: p.calibration,
        blockSparsity: p.blockSparsity,
        report: p.report,
        denseMetric,
        notes: [...p.notes, ...(a.calib?.source === FILE_SOURCE ? [`calibration data read from ${a.calib.path}`] : [])],
      },
    });
    // What we write must load back: same check as opening a model.
    loadCheckpoint({
      config: JSON.parse(new TextDecoder().decode(files.get(CONFIG_FILE)!)),
      ...gatherWeightFiles((name) => files.get(name))!,
      tokenizer: md.files.tokenizer,
    });
    mkdirSync(a.out, { recursive: true });
    for (const [name, b] of files) writeFileSync(join(a.out, name), b);
    ctx.progress.done();
    const written = [...files].map(([name, b]) => ({ name, bytes: b.length }));
    const recipeJson = JSON.parse(new TextDecoder().decode(files.get(RECIPE_FILE)!)) as ExportedRecipe;
    if (a.json) {
      ctx.stdout.write(`${JSON.stringify({ out: a.out, files: written, recipe: recipeJson }, null, 2)}\n`);
    } else {
      if (p.report) ctx.stdout.write(reportText(p.report));
      else if (p.structure)
        ctx.stdout.write(`${'structure'.padEnd(13)} ${p.notes[0].replace(/^structured pruning: /, '')}\n`);
      if (denseMetric) ctx.stdout.write(`${'dense'.padEnd(13)} ${metricLine(denseMetric)}\n`);
      const removed = recipeJson.structure.removedBlocks;
      if (removed.length)
        ctx.stdout.write(
          `${'blocks'.padEnd(13)} ${removed.length} removed (${removed.join(', ')}); the checkpoint has ${recipeJson.blocks.length - removed.length}\n`,
        );
      ctx.stdout.write(`\nwrote ${a.out}:\n`);
      for (const f of written) ctx.stdout.write(`  ${f.name.padEnd(26)} ${bytes(f.bytes)}\n`);
    }
  } finally {
    session.dispose();
  }
}
