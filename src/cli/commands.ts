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
import { ModelError, type ModelSession, type ModelSummary, summarize } from '../engine/session';
import { lmWindowCount, type Metrics } from '../engine/eval/metrics';
import { KeptStatistics } from '../engine/stream/kept-statistics';
import { allocationDefaults, familyOf, streamRefusal } from '../engine/pruning/catalogue';
import { checkRecipe, needsCalibration, resolvePruneRecipe, resolveStructuredRecipe } from '../engine/pruning/recipe';
import type { UnstructuredResult } from '../engine/pruning/unstructured';
import type { CalibrationSpec } from '../engine/pruning/calibration';
import { gatherWeightFiles, loadCheckpoint, WEIGHTS_FILE } from '../engine/model/checkpoint';
import { INDEX_FILE } from '../engine/io/shard-index';
import { isCausalLm, numLayers, sequenceLength } from '../engine/model/config';
import { predictClasses, predictNext } from '../engine/eval/inspect';
import { planStructured, type StructuredPlan } from '../engine/pruning/structured/recipe';
import {
  CONFIG_FILE,
  exportCheckpoint,
  recipeToJson,
  type ExportedRecipe,
  RECIPE_FILE,
} from '../engine/export/checkpoint-export';
import { packGptqCheckpoint } from '../engine/export/gptq-checkpoint';
import type { StructuralPruning } from '../engine/export/structure';
import { checkHandover, type HandoverFile, writeHandover } from '../engine/export/handover';
import { choicesOf } from '../engine/pruning/recipe';
import {
  type EvalArgs,
  type ParsedCommand,
  prunesWeights,
  type RecipeArgs,
  type RecoveryArgs,
  type StructuredArgs,
  type WeightArgs,
} from './args';
import {
  type PrunedModel,
  type Recovered,
  type RecoveryDataSource,
  type RecoveryRequest,
  recoverPruned,
  recoveryNotes,
} from '../engine/eval/recovery';
import { exportPeftAdapter } from '../engine/export/peft';
import { recoveryMemory, WASM_HEAP_BYTES } from '../engine/recovery/memory';
import { CliError, UsageError } from './errors';
import {
  bytes,
  classTable,
  metricLine,
  nextTokenTable,
  pointText,
  recoveryText,
  reportText,
  summaryText,
} from './format';
import {
  type DataDir,
  type OpenModel,
  openSession,
  readCalibrationFile,
  readDataPath,
  readImageInput,
  readModelDir,
  type ModelDir,
} from './model-dir';
import { FILE_SOURCE, OPTIONS, RECOVERY_FILE } from './options';
import {
  defaultBudget,
  openIfTooBig,
  refuseStreaming,
  runStreamed,
  type Streaming,
  type StreamOutcome,
  type StreamRequest,
} from './streamed';
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
function withCalibration<R extends PruneRecipe | StructuredPruneRecipe>(
  r: R,
  a: RecipeArgs & Partial<EvalArgs>,
  session: OpenModel,
  md: DataDir,
): R {
  const family = familyOf(session.config.kind);
  if (!needsCalibration(r, family) && a.calib === undefined && a.calibCount === undefined) return r;
  const calibration: CalibrationSpec = {
    source: a.calib?.source ?? OPTIONS.calib.default,
    count: a.calibCount ?? DEFAULT_CALIBRATION[family].count,
    seed: a.seed ?? OPTIONS.seed.default,
  };
  if (a.seqLen !== undefined && isCausalLm(session.config)) calibration.length = a.seqLen;
  if (a.calib?.source === FILE_SOURCE) calibration.custom = readCalibrationFile(a.calib.path, session, md);
  return { ...r, calibration };
}

/**
 * The recipe with every default filled in (scope, allocation and its parameters, calibration mode,
 * seed), so a report says exactly what ran; refused by the catalogue when the model's family
 * cannot honour it.
 */
export function buildRecipe(
  a: WeightArgs & Partial<EvalArgs>,
  sparsity: number,
  session: OpenModel,
  md: DataDir,
): PruneRecipe {
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
    ...(allocation === 'evopress'
      ? { evopress: { steps: parameters.steps, units: a.searchUnits ?? OPTIONS['search-units'].default } }
      : {}),
    calibrationMode: a.calibrationMode,
    quant: a.quant,
    seed: a.seed ?? OPTIONS.seed.default,
  };
  checkRecipe(given, family);
  return withCalibration(resolvePruneRecipe(given, family), a, session, md);
}

/** A structured recipe with every default filled in (score, scope, first token-pruned block); `amount` is the fraction removed. */
export function buildStructuredRecipe(
  a: StructuredArgs & Partial<EvalArgs>,
  amount: number,
  session: ModelSession,
  md: ModelDir,
): StructuredPruneRecipe {
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
  return withCalibration(r, a, session, md);
}

/** A report as JSON (a custom calibration set is described, not embedded). */
export function reportJson(r: PruneReport | StructuredReport): Record<string, unknown> {
  return { ...r, recipe: recipeToJson(r.recipe) };
}

/** The model's directory: --model itself, or where a remote model was downloaded to. */
function modelDir(a: { model: string; hub?: string; cache?: string }, ctx: Context): Promise<string> {
  return modelDirOf(a.model, {
    hub: a.hub,
    cache: a.cache,
    signal: ctx.signal,
    onProgress: (label, f) => ctx.progress.update(label, f),
    note: (m) => ctx.progress.note(m),
  });
}

async function load(
  a: { model: string; hub?: string; cache?: string },
  ctx: Context,
  e?: EvalArgs,
  resolved?: string,
): Promise<{ md: ModelDir; session: ModelSession; evalData: EvalData | null }> {
  const dir = resolved ?? (await modelDir(a, ctx));
  ctx.progress.update('loading model', 0);
  const md = readModelDir(dir);
  const session = openSession(md);
  let evalData: EvalData | null = null;
  try {
    if (e) evalData = useEvalArgs(session, md, e, ctx);
  } catch (err) {
    session.dispose();
    throw err;
  }
  ctx.progress.done();
  // Not progress: printed under --quiet too.
  for (const w of session.checkpoint.warnings) ctx.stderr.write(`warning: ${w}\n`);
  return { md, session, evalData };
}

/** What an evaluation covers when the command line chose it: the path, and the windows or images. */
type EvalData = { path: string; context?: number; stride?: number } & ({ windows: number } | { images: number });

/**
 * The evaluation set and windows the command line asks for (--eval, --eval-count, --seq-len,
 * --stride), set on the session; nothing given leaves the model directory's eval.safetensors as
 * it is.
 */
function useEvalArgs(session: ModelSession, md: ModelDir, e: EvalArgs, ctx: Context): EvalData | null {
  const given = [e.evalPath, e.evalCount, e.seqLen, e.stride].some((v) => v !== undefined);
  if (!given) return null;
  const c = session.config;
  if (!isCausalLm(c)) {
    const textOnly = (['seqLen', 'stride'] as const).find((k) => e[k] !== undefined);
    if (textOnly) throw new UsageError(`--${textOnly === 'seqLen' ? 'seq-len' : 'stride'} applies to text models only`);
  }
  if (e.evalPath === undefined && !session.evalSet)
    throw new CliError(`${md.dir} has no eval.safetensors: give the evaluation data with --eval <path>`);
  if (e.evalPath !== undefined) ctx.progress.update('reading evaluation data', 0);
  const set = e.evalPath === undefined ? null : readDataPath(e.evalPath, 'evaluation', c, md);
  const path = e.evalPath ?? join(md.dir, 'eval.safetensors');
  try {
    const covered = session.useEvalSet(set, {
      name: path,
      context: e.seqLen,
      stride: e.stride,
      maxWindows: isCausalLm(c) ? e.evalCount : undefined,
      maxImages: isCausalLm(c) ? undefined : e.evalCount,
    });
    if (!isCausalLm(c)) return { path, ...covered };
    const context = e.seqLen ?? sequenceLength(c);
    return { path, context, stride: e.stride ?? context, ...covered };
  } catch (err) {
    if (err instanceof ModelError) throw new CliError(err.message);
    throw err;
  }
}

function runOptions(ctx: Context): RunOptions {
  return { signal: ctx.signal, onProgress: (stage, f) => ctx.progress.update(stage, f) };
}

/** prune and sweep report a metric: without an evaluation set they stop before any work. */
function needEvalSet(session: ModelSession, md: ModelDir): void {
  if (!session.evalSet)
    throw new CliError(`${md.dir} has no eval.safetensors: give the evaluation data with --eval <path>`);
}

/**
 * prune or export a block at a time when the model does not fit the memory budget whole (see
 * streamed.ts); null when it does, and the caller loads it whole.
 */
async function streamIfTooBig(
  a: Of<'prune'> | Of<'export'>,
  dir: string,
  ctx: Context,
  out?: (md: DataDir) => NonNullable<StreamRequest['out']>,
): Promise<StreamOutcome | null> {
  const streaming = await openIfTooBig(dir, a.memoryBudget ?? defaultBudget(), ctx.progress);
  if (!streaming) return null;
  try {
    refuseStreamedRecovery(a, streaming);
    const model = streaming.md.checkpoint;
    if (!prunesWeights(a))
      refuseStreaming(streaming, streamRefusal({ family: familyOf(model.config.kind), granularity: a.granularity })!);
    const recipe = buildRecipe(a, a.sparsity, model, streaming.md);
    if (a.command === 'export' && a.handover)
      checkHandover(a.handover, choicesOf(recipe, familyOf(model.config.kind)), model.config);
    if (a.command === 'export' && a.packed)
      refuseStreaming(streaming, `--packed ${a.packed} packs the whole model’s quantized linears at once`);
    const outcome = await runStreamed(streaming, {
      recipe,
      evalArgs: a,
      out: out?.(streaming.md),
      signal: ctx.signal,
      progress: ctx.progress,
      stderr: ctx.stderr,
    });
    ctx.progress.done();
    return outcome;
  } finally {
    await streaming.md.close();
  }
}

/** The recovery a command asked for, its data read; null without --recover. */
function recoveryRequest(a: RecoveryArgs & RecipeArgs, session: ModelSession, md: DataDir): RecoveryRequest | null {
  const r = a.recovery;
  if (!r) return null;
  const data: RecoveryDataSource =
    r.data?.source === RECOVERY_FILE
      ? { source: 'custom', set: readDataPath(r.data.path, 'recovery', session.config, md), name: r.data.path }
      : { source: (r.data?.source ?? OPTIONS['recover-data'].default) as 'calibration' | 'train' };
  return {
    mode: r.mode,
    steps: r.steps ?? OPTIONS['recover-steps'].default,
    learningRate: r.learningRate,
    batchSize: r.batchSize ?? OPTIONS['recover-batch'].default,
    seed: a.seed ?? OPTIONS.seed.default,
    evalEvery: r.evalEvery ?? OPTIONS['recover-eval-every'].default,
    rank: r.rank,
    alpha: r.alpha,
    temperature: r.temperature,
    data,
  };
}

/** Refuses, before any pruning, a recovery the model cannot be measured by or the WASM heap cannot hold. */
function checkRecovery(s: ModelSession, a: Partial<EvalArgs>, request: RecoveryRequest | null): void {
  if (!request) return;
  if (!s.evalSet) throw new CliError('recovery is measured on the eval set, and this model has none: give --eval');
  const summary = s.summary();
  // Tokens an example: a language model trains on the calibration's windows (--seq-len, else its context).
  const tokens = isCausalLm(s.config) ? (a.seqLen ?? sequenceLength(s.config)) : summary.sequence;
  const needs = recoveryMemory(summary, request.mode, request.batchSize, tokens);
  if (needs > WASM_HEAP_BYTES)
    throw new CliError(
      `--recover ${request.mode} on this model needs about ${bytes(needs)} at a batch of ${request.batchSize}, past the ${bytes(WASM_HEAP_BYTES)} the WASM backend's heap holds`,
    );
}

/** Recovery of one pruned model, its loss on the progress line; Ctrl-C keeps the best weights measured. */
function recoverWith(
  pruner: Pruner,
  pruned: PrunedModel,
  recipe: PruneRecipe | StructuredPruneRecipe,
  request: RecoveryRequest,
  ctx: Context,
): Promise<Recovered> {
  return recoverPruned(pruner, pruned, recipe, request, {
    signal: ctx.signal,
    onProgress: (p) => {
      if (p.kind === 'loss') ctx.progress.update(`recovering (loss ${p.loss.toFixed(4)})`, p.step / p.steps);
    },
  });
}

/** One pruned (and, with --recover, recovered) point: the report, and the recovery's when there was one. */
async function measurePoint(
  pruner: Pruner,
  a: RecipeArgs & RecoveryArgs & Partial<EvalArgs>,
  sparsity: number,
  request: RecoveryRequest | null,
  md: ModelDir,
  ctx: Context,
): Promise<{ report: PruneReport | StructuredReport; recovered: Recovered | null }> {
  const session = pruner.session;
  checkRecovery(session, a, request);
  if (prunesWeights(a)) {
    const recipe = buildRecipe(a, sparsity, session, md);
    const { report, result } = await pruner.pruneAndMeasure(recipe, runOptions(ctx));
    return { report, recovered: request && (await recoverWith(pruner, { result }, recipe, request, ctx)) };
  }
  const recipe = buildStructuredRecipe(a, sparsity, session, md);
  const { report, plan } = await pruner.pruneAndMeasureStructured(recipe, runOptions(ctx));
  return { report, recovered: request && (await recoverWith(pruner, { plan }, recipe, request, ctx)) };
}

/** A point's JSON: the report, and its recovery (settings, the metric before and after, the curves). */
const pointJson = (report: PruneReport | StructuredReport, recovered: Recovered | null) => ({
  ...reportJson(report),
  ...(recovered ? { recovery: recovered.report } : {}),
});

/** --recover needs the whole model in memory: a model read a block at a time cannot be trained. */
function refuseStreamedRecovery(a: RecoveryArgs, streaming: Streaming): void {
  if (a.recovery)
    refuseStreaming(streaming, `--recover ${a.recovery.mode} trains the whole model at once; raise --memory-budget`);
}

export async function runPrune(a: Of<'prune'>, ctx: Context): Promise<void> {
  const dir = await modelDir(a, ctx);
  const streamed = await streamIfTooBig(a, dir, ctx);
  if (streamed) {
    const report = streamed.report!;
    ctx.stdout.write(a.json ? `${JSON.stringify(streamedJson(report, streamed), null, 2)}\n` : reportText(report));
    return;
  }
  const { md, session } = await load(a, ctx, a, dir);
  try {
    needEvalSet(session, md);
    const pruner = new Pruner(session);
    const { report, recovered } = await measurePoint(pruner, a, a.sparsity, recoveryRequest(a, session, md), md, ctx);
    ctx.progress.done();
    ctx.stdout.write(
      a.json
        ? `${JSON.stringify(pointJson(report, recovered), null, 2)}\n`
        : reportText(report) + (recovered ? recoveryText(recovered.report) : ''),
    );
  } finally {
    session.dispose();
  }
}

/** A sweep a block at a time: one pass over the files per point, the dense model measured in the first. */
async function sweepStreamed(a: Of<'sweep'>, streaming: Streaming, ctx: Context): Promise<void> {
  const model = streaming.md.checkpoint;
  if (!prunesWeights(a))
    refuseStreaming(streaming, streamRefusal({ family: familyOf(model.config.kind), granularity: a.granularity })!);
  const n = a.sparsities.length;
  let denseMetric: StreamOutcome['denseMetric'] = null;
  // One-shot statistics do not depend on the sparsity: the points after the first calibrate nothing.
  const kept = new KeptStatistics(numLayers(model.config));
  for (const [i, sparsity] of a.sparsities.entries()) {
    ctx.signal.throwIfAborted();
    ctx.progress.prefix = `[${i + 1}/${n}] `;
    const outcome = await runStreamed(streaming, {
      recipe: buildRecipe(a, sparsity, model, streaming.md),
      measureDense: denseMetric === null,
      kept,
      evalArgs: a,
      signal: ctx.signal,
      progress: ctx.progress,
      stderr: ctx.stderr,
    });
    denseMetric ??= outcome.denseMetric;
    ctx.progress.done();
    const report = outcome.report!;
    ctx.stdout.write(
      a.json
        ? `${JSON.stringify({ ...streamedJson(report, outcome), streamed: { ...streamedFacts(outcome), denseMetric } })}\n`
        : `${pointText(report)}\n`,
    );
  }
}

export async function runSweep(a: Of<'sweep'>, ctx: Context): Promise<void> {
  const dir = await modelDir(a, ctx);
  const streaming = await openIfTooBig(dir, a.memoryBudget ?? defaultBudget(), ctx.progress);
  if (streaming) {
    try {
      refuseStreamedRecovery(a, streaming);
      await sweepStreamed(a, streaming, ctx);
    } finally {
      await streaming.md.close();
    }
    return;
  }
  const { md, session } = await load(a, ctx, a, dir);
  try {
    needEvalSet(session, md);
    const pruner = new Pruner(session);
    const n = a.sparsities.length;
    const print = (report: PruneReport | StructuredReport, recovered: Recovered | null = null) => {
      ctx.progress.done();
      const recoveredText = recovered
        ? `  →  recovered ${metricLine(recovered.report.after)}${recovered.report.aborted ? ' (cancelled)' : ''}`
        : '';
      ctx.stdout.write(
        a.json ? `${JSON.stringify(pointJson(report, recovered))}\n` : `${pointText(report)}${recoveredText}\n`,
      );
    };
    ctx.progress.prefix = `[1/${n}] `;
    const request = recoveryRequest(a, session, md);
    if (request) {
      // Each point pruned, measured and recovered from the dense model; the Pruner keeps the statistics.
      for (const [i, sparsity] of a.sparsities.entries()) {
        ctx.signal.throwIfAborted();
        ctx.progress.prefix = `[${i + 1}/${n}] `;
        const { report, recovered } = await measurePoint(pruner, a, sparsity, request, md, ctx);
        print(report, recovered);
      }
    } else if (prunesWeights(a)) {
      const { sparsity: _, ...base } = buildRecipe(a, 0, session, md);
      let i = 0;
      for await (const report of pruner.sweep(base, a.sparsities, runOptions(ctx))) {
        i++;
        print(report);
        ctx.progress.prefix = `[${i + 1}/${n}] `;
      }
    } else {
      // One structured point per amount; the Pruner keeps the calibration data between them.
      const base = buildStructuredRecipe(a, 0, session, md);
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

/** eval a block at a time: the summary from the headers, the metric from one pass over the files. */
async function measureStreamed(
  a: Of<'eval'>,
  streaming: Streaming,
  ctx: Context,
): Promise<{ summary: ModelSummary; metric: Metrics | null; evalData: EvalData | null; evaluateMs: number }> {
  const { md } = streaming;
  const ck = md.checkpoint;
  const t0 = performance.now();
  const outcome = await runStreamed(streaming, {
    recipe: null,
    evalArgs: a,
    signal: ctx.signal,
    progress: ctx.progress,
    stderr: ctx.stderr,
  });
  const ev = outcome.evaluation;
  const windows = ev ? lmWindowCount(ev.tokens.length, ev.context, ev.stride, ev.maxWindows) : 0;
  const summary = summarize(ck.config, {
    evalSet: null,
    evalWindow: ev?.context ?? sequenceLength(ck.config),
    calibSet: md.calibSet !== null,
    tiedHead: !ck.shapes.has('lm_head.weight'),
    ignoredTensors: ck.ignored,
    warnings: ck.warnings,
  });
  return {
    summary: { ...summary, evalSet: ev && { kind: 'text', bytes: ev.bytes } },
    metric: outcome.denseMetric,
    evalData:
      ev && a.evalPath !== undefined ? { path: a.evalPath, context: ev.context, stride: ev.stride, windows } : null,
    evaluateMs: performance.now() - t0,
  };
}

export async function runEval(a: Of<'eval'>, ctx: Context): Promise<void> {
  const dir = await modelDir(a, ctx);
  const streaming = await openIfTooBig(dir, a.memoryBudget ?? defaultBudget(), ctx.progress);
  let loaded: Awaited<ReturnType<typeof load>> | null = null;
  try {
    let summary: ModelSummary;
    let metric: Metrics | null;
    let evalData: EvalData | null;
    let evaluateMs: number;
    if (streaming) ({ summary, metric, evalData, evaluateMs } = await measureStreamed(a, streaming, ctx));
    else {
      loaded = await load(a, ctx, a, dir);
      const { session } = loaded;
      evalData = loaded.evalData;
      summary = session.summary();
      const t0 = performance.now();
      metric = session.evalSet
        ? await session.evaluate({ signal: ctx.signal, onProgress: (f) => ctx.progress.update('evaluating', f) })
        : null;
      evaluateMs = performance.now() - t0;
    }
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
        ...(evalData ? { evalData } : {}),
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
    loaded?.session.dispose();
    await streaming?.md.close();
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
  pruner: Pruner;
  /** What recovery trains from. */
  model: PrunedModel;
  masks: Map<string, Uint8Array> | null;
  replaced: UnstructuredResult['weights'] | null;
  quantized?: UnstructuredResult['quantized'];
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
  const recipe = buildRecipe(a, a.sparsity, session, md);
  // Refused before the pruning runs: the user learns at once that the tool cannot take the recipe.
  if (a.handover) checkHandover(a.handover, choicesOf(recipe, familyOf(session.config.kind)), session.config);
  const pruner = new Pruner(session);
  if (session.evalSet) {
    const { report, result } = await pruner.pruneAndMeasure(recipe, runOptions(ctx));
    return {
      pruner,
      model: { result },
      masks: result.masks,
      replaced: result.weights,
      quantized: result.quantized,
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
    pruner,
    model: { result: p.result },
    masks: p.result.masks,
    replaced: p.result.weights,
    quantized: p.result.quantized,
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
  const recipe = buildStructuredRecipe(a, a.sparsity, session, md);
  if (a.handover) checkHandover(a.handover, choicesOf(recipe, familyOf(session.config.kind)), session.config);
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
    pruner,
    model: { plan },
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
  const dir = await modelDir(a, ctx);
  const streamed = await streamIfTooBig(a, dir, ctx, (md) => ({
    dir: a.out,
    provenance: { source: isRemoteModel(a.model) ? a.model : md.dir, notes: exportNotes(a, true) },
  }));
  if (streamed) {
    const { files, recipe } = streamed.written!;
    if (a.json)
      ctx.stdout.write(
        `${JSON.stringify({ out: a.out, files, recipe, streamed: streamedFacts(streamed) }, null, 2)}\n`,
      );
    else {
      if (streamed.report) ctx.stdout.write(reportText(streamed.report));
      if (streamed.denseMetric) ctx.stdout.write(`${'dense'.padEnd(13)} ${metricLine(streamed.denseMetric)}\n`);
      writtenText(a.out, files, ctx);
    }
    return;
  }
  const { md, session } = await load(a, ctx, a, dir);
  try {
    const request = recoveryRequest(a, session, md);
    checkRecovery(session, a, request);
    const p = prunesWeights(a)
      ? await pruneUnstructuredForExport(a, session, md, ctx)
      : await pruneStructuredForExport(a, session, md, ctx);
    const recovered = request && (await recoverWith(p.pruner, p.model, p.recipe, request, ctx));
    const denseMetric = p.report
      ? await session.evaluate({
          signal: ctx.signal,
          onProgress: (f) => ctx.progress.update('evaluating the dense model', f),
        })
      : null;
    ctx.progress.update('writing', 0);
    let files = exportCheckpoint({
      config: session.config,
      weights: session.checkpoint.weights,
      source: session.checkpoint,
      masks: p.masks,
      replaced: recovered?.weights ?? p.replaced,
      structure: p.structure,
      extraFiles: md.extraFiles,
      provenance: {
        source: isRemoteModel(a.model) ? a.model : md.dir,
        recipe: p.recipe,
        calibration: p.calibration,
        blockSparsity: p.blockSparsity,
        report: p.report,
        denseMetric,
        recovery: recovered?.report ?? null,
        notes: [
          ...p.notes,
          ...exportNotes(a, !!p.report),
          ...(recovered ? recoveryNotes(recovered, `${ADAPTER_DIR}/`) : []),
        ],
      },
    });
    const handover = a.handover ? handoverFile(a.handover, p, session, md) : null;
    if (handover) files.set(handover.name, new TextEncoder().encode(handover.text));
    // What we write must load back: same check as opening a model.
    loadCheckpoint({
      config: JSON.parse(new TextDecoder().decode(files.get(CONFIG_FILE)!)),
      ...gatherWeightFiles((name) => files.get(name))!,
      tokenizer: md.files.tokenizer,
    });
    const quant = 'method' in p.recipe ? p.recipe.quant : null;
    if (a.packed && p.quantized && quant) files = packGptqCheckpoint(files, session.config, p.quantized, quant);
    const adapter = recovered?.adapters
      ? exportPeftAdapter(session.config, recovered.adapters, isRemoteModel(a.model) ? a.model : null)
      : null;
    mkdirSync(a.out, { recursive: true });
    for (const [name, b] of files) writeFileSync(join(a.out, name), b);
    if (adapter) {
      mkdirSync(join(a.out, ADAPTER_DIR), { recursive: true });
      for (const [name, b] of adapter) {
        writeFileSync(join(a.out, ADAPTER_DIR, name), b);
        files.set(`${ADAPTER_DIR}/${name}`, b);
      }
    }
    ctx.progress.done();
    const written = [...files].map(([name, b]) => ({ name, bytes: b.length }));
    const recipeJson = JSON.parse(new TextDecoder().decode(files.get(RECIPE_FILE)!)) as ExportedRecipe;
    if (a.json) {
      const handedOver = handover
        ? { handover: { tool: handover.tool, file: handover.name, data: handover.data } }
        : {};
      ctx.stdout.write(
        `${JSON.stringify({ out: a.out, files: written, recipe: recipeJson, ...handedOver }, null, 2)}\n`,
      );
    } else {
      if (p.report) ctx.stdout.write(reportText(p.report));
      if (recovered) ctx.stdout.write(recoveryText(recovered.report));
      if (!p.report && p.structure)
        ctx.stdout.write(`${'structure'.padEnd(13)} ${p.notes[0].replace(/^structured pruning: /, '')}\n`);
      if (denseMetric) ctx.stdout.write(`${'dense'.padEnd(13)} ${metricLine(denseMetric)}\n`);
      const removed = recipeJson.structure.removedBlocks;
      if (removed.length)
        ctx.stdout.write(
          `${'blocks'.padEnd(13)} ${removed.length} removed (${removed.join(', ')}); the checkpoint has ${recipeJson.blocks.length - removed.length}\n`,
        );
      writtenText(a.out, written, ctx);
    }
  } finally {
    session.dispose();
  }
}

/** The folder of an export that holds a LoRA recovery's adapter in PEFT's format. */
const ADAPTER_DIR = 'adapter';

/** recipe.json's notes on where the data came from. */
function exportNotes(a: Of<'export'>, measured: boolean): string[] {
  return [
    ...(a.calib?.source === FILE_SOURCE ? [`calibration data read from ${a.calib.path}`] : []),
    ...(a.evalPath !== undefined && measured ? [`measured on ${a.evalPath}`] : []),
  ];
}

function writtenText(out: string, files: { name: string; bytes: number }[], ctx: Context): void {
  ctx.stdout.write(`\nwrote ${out}:\n`);
  for (const f of files) ctx.stdout.write(`  ${f.name.padEnd(26)} ${bytes(f.bytes)}\n`);
}

/** What a streamed run reports besides the report: the dense metric, the blocks held, the total time. */
function streamedFacts(s: StreamOutcome): Record<string, unknown> {
  return { denseMetric: s.denseMetric, blocksHeld: s.result.blocksHeld, totalMs: s.result.timeMs.total };
}

function streamedJson(report: PruneReport, s: StreamOutcome): Record<string, unknown> {
  return { ...reportJson(report), streamed: streamedFacts(s) };
}

/**
 * The recipe file for the tool --recipe names, from what the export ran: the per-block sparsities
 * its allocation asked for (or measured, when the model has no eval set) and the structure it removed.
 */
function handoverFile(
  tool: NonNullable<Of<'export'>['handover']>,
  p: Pruned,
  session: ModelSession,
  md: ModelDir,
): HandoverFile {
  const r = p.recipe;
  const uniform = 'granularity' in r || (r.allocation ?? 'uniform') === 'uniform';
  const target = p.report && 'targetBlockSparsity' in p.report ? p.report.targetBlockSparsity : null;
  return writeHandover(tool, {
    config: session.config,
    recipe: r,
    blockSparsity: uniform ? null : (target ?? p.blockSparsity ?? null),
    structure: p.structure,
    source: md.dir,
    calibration: r.calibration ? { count: r.calibration.count, length: r.calibration.length } : null,
  });
}

/** The dense model's prediction for one input: the next token after a text, or an image's classes. */
export async function runPredict(a: Of<'predict'>, ctx: Context): Promise<void> {
  const { md, session } = await load(a, ctx);
  try {
    const c = session.config;
    if (isCausalLm(c)) {
      if (!('text' in a.input)) throw new UsageError('predict: the model reads text; give --text <string>');
      const tokenizer = session.checkpoint.tokenizer!;
      const ids = tokenizer.encode(a.input.text);
      if (ids.length === 0) throw new UsageError('predict: the text encodes to no tokens; give some text');
      const window = sequenceLength(c);
      if (ids.length > window)
        ctx.progress.note(`note: the text is ${ids.length} tokens; the prediction reads its last ${window}`);
      const p = await predictNext(c, session.weights, ids, { topK: Math.min(a.top, c.vocabSize), tokenizer });
      const top = p.top.map((t) => ({ id: t.id, token: t.text, prob: t.prob }));
      ctx.stdout.write(a.json ? `${JSON.stringify({ ids, top }, null, 2)}\n` : nextTokenTable(ids, top));
    } else {
      if (!('image' in a.input)) throw new UsageError('predict: the model classifies images; give --image <file>');
      const input = readImageInput(a.input.image, c, md);
      const p = await predictClasses(c, session.weights, input, { topK: Math.min(a.top, c.labels.length) });
      const top = p.top.map((t) => ({ index: t.index, label: t.label, prob: t.prob }));
      ctx.stdout.write(a.json ? `${JSON.stringify({ top }, null, 2)}\n` : classTable(top));
    }
  } finally {
    session.dispose();
  }
}
