// A language model too big to hold whole, as the page's worker keeps it: its files opened by ranges
// (LazyCheckpoint), its data sets, and nothing else in memory between calls. Each measurement,
// prune and export is one pass over the files a block at a time (streamed-prune.ts); the dense
// metric is measured once per evaluation set and window, so a prune carries only the pruned model,
// and one-shot calibration statistics are kept, so a slider step calibrates nothing.
import { checkChoices, familyOf, streamRefusal } from '../pruning/catalogue';
import { choicesOf, resolvePruneRecipe } from '../pruning/recipe';
import { makeCalibration, type CalibrationData } from '../pruning/calibration';
import type { PruneRecipe, PruneReport } from '../eval/pruner';
import type { LmMetrics } from '../eval/metrics';
import { isCausalLm, numLayers, sequenceLength, type CausalLmConfig } from '../model/config';
import type { LazyCheckpoint } from '../model/lazy-checkpoint';
import { parseDataSet, type DataSet } from '../data/datasets';
import type { ExportProvenance } from '../export/checkpoint-export';
import type { OpenSink } from '../export/streamed-export';
import {
  checkDataFits,
  encodeText,
  evalWindowCount,
  ModelError,
  summarize,
  type EvalSetOptions,
  type ModelSummary,
} from '../session';
import { describeEstimate, formatBytes, streamedMemory, type MemoryEstimate } from './memory';
import { pruneStreamed, type LmEvaluation, type StreamedPruneResult } from './streamed-prune';
import { streamedReport, streamedSmallFiles } from './streamed-outcome';
import { KeptStatistics } from './kept-statistics';
import { tensorByteSize } from '../io/safetensors';
import { blockCapture, prunableLinears } from '../pruning/unstructured';

export interface StreamedRunOptions {
  signal?: AbortSignal;
  onProgress?: (stage: string, fraction: number) => void;
  /** Evaluation windows per batch of logits. */
  batchSize?: number;
}

export interface StreamedExportOptions extends StreamedRunOptions {
  /** Where the weight files, masks and small files go. */
  sink: OpenSink;
  provenance: ExportProvenance;
  /** Files copied beside the weights (tokenizer.json, ...). */
  copied: Record<string, Uint8Array>;
}

export class StreamedSession {
  private evalData: DataSet | null;
  private evalOptions: EvalSetOptions = {};
  private evalTokens: Int32Array | null = null;
  /** The dense model's metric on the current set and windows, once measured. */
  private dense: LmMetrics | null = null;
  /** The pass running: one at a time, so the memory is one pass's and a prune after a measurement
   * reuses its dense metric. */
  private busy: Promise<unknown> = Promise.resolve();
  /** One-shot statistics of the last calibration, so a slider step does not calibrate again. */
  private readonly kept: KeptStatistics;

  private constructor(
    readonly checkpoint: LazyCheckpoint,
    readonly config: CausalLmConfig,
    evalSet: DataSet | null,
    readonly calibSet: DataSet | null,
    /** The memory budget it runs in, and what holding it whole would take. */
    readonly budget: number,
    readonly whole: MemoryEstimate,
  ) {
    this.evalData = evalSet;
    this.kept = new KeptStatistics(numLayers(config));
  }

  /**
   * Takes an opened checkpoint and its data sets (eval.safetensors, calib.safetensors), refusing a
   * model that cannot be read a block at a time or does not fit `budget` even so.
   */
  static open(
    checkpoint: LazyCheckpoint,
    sets: { evalSet?: Uint8Array; calibSet?: Uint8Array },
    budget: number,
    whole: MemoryEstimate,
  ): StreamedSession {
    const c = checkpoint.config;
    const tooBig = `the whole model needs about ${describeEstimate(whole)}, over the memory budget of ${formatBytes(budget)}`;
    if (!isCausalLm(c)) throw new ModelError(`${tooBig}; only a language model can be read a block at a time`);
    if (!checkpoint.tokenizer)
      throw new ModelError(`${tooBig}; a block at a time it is measured on text, and it has no tokenizer.json`);
    const evalSet = sets.evalSet ? parseDataSet(sets.evalSet, 'eval.safetensors') : null;
    const calibSet = sets.calibSet ? parseDataSet(sets.calibSet, 'calib.safetensors') : null;
    if (evalSet) checkDataFits(c, evalSet, 'eval.safetensors');
    if (calibSet) checkDataFits(c, calibSet, 'calib.safetensors');
    const s = new StreamedSession(checkpoint, c, evalSet, calibSet, budget, whole);
    const least = s.estimate(null, null);
    if (least.bytes > budget) throw new ModelError(`${tooBig}, and a block at a time about ${describeEstimate(least)}`);
    return s;
  }

  get evalSet(): DataSet | null {
    return this.evalData;
  }

  /** Tokens per evaluation window: the options', else the model's sequence. */
  get evalWindow(): number {
    return this.evalOptions.context ?? sequenceLength(this.config);
  }

  /** As ModelSession.useEvalSet: checked first, so a refused set or window changes nothing. */
  useEvalSet(set: DataSet | null, opts: EvalSetOptions = {}): { windows: number } {
    const next = set ?? this.evalData;
    if (!next) throw new ModelError('this model has no evaluation set; give one');
    const name = opts.name ?? 'the evaluation text';
    if (next.kind !== 'text') throw new ModelError(`${name} holds images, but the model reads text`);
    const tokens = next === this.evalData && this.evalTokens ? this.evalTokens : this.encode(next);
    const windows = evalWindowCount(this.config, tokens.length, opts, name);
    this.evalData = next;
    this.evalOptions = opts;
    this.evalTokens = tokens;
    this.dense = null;
    // Calibration on the held-out text reads the new one.
    this.kept.clear();
    return { windows };
  }

  summary(): ModelSummary {
    return summarize(this.config, {
      evalSet: this.evalData,
      evalWindow: this.evalWindow,
      calibSet: this.calibSet !== null,
      tiedHead: !this.checkpoint.shapes.has('lm_head.weight'),
      ignoredTensors: this.checkpoint.ignored,
      warnings: this.checkpoint.warnings,
      streamed: { budget: this.budget, whole: this.whole.bytes, blockAtATime: this.estimate(null, null).bytes },
    });
  }

  /** Runs `pass` once the pass before it has ended (and not at all when cancelled meanwhile). */
  private exclusive<T>(signal: AbortSignal | undefined, pass: () => Promise<T>): Promise<T> {
    const run = this.busy.then(() => {
      signal?.throwIfAborted();
      return pass();
    });
    this.busy = run.catch(() => {});
    return run;
  }

  /** Bytes an export writes: the weights in their stored dtypes, and a byte of mask per prunable weight. */
  exportBytes(): number {
    const ck = this.checkpoint;
    let bytes = 0;
    for (const [name, shape] of ck.shapes) bytes += tensorByteSize(ck.storage.dtypes.get(name) ?? 'F32', shape);
    for (const spec of prunableLinears(this.config)) bytes += spec.inFeatures * spec.outFeatures;
    return bytes;
  }

  /** The dense model's metric on the evaluation set: one pass over the files. */
  evaluate(opts: StreamedRunOptions = {}): Promise<LmMetrics> {
    return this.exclusive(opts.signal, () => this.measureDense(opts));
  }

  private async measureDense(opts: StreamedRunOptions): Promise<LmMetrics> {
    if (this.dense) return this.dense;
    const evaluation = this.evaluation(opts.batchSize, true);
    this.check(null, null, evaluation);
    const result = await pruneStreamed({
      checkpoint: this.checkpoint,
      recipe: null,
      calibration: null,
      evaluation,
      signal: opts.signal,
      onProgress: opts.onProgress,
    });
    this.dense = result.denseMetric!;
    return this.dense;
  }

  /** Prunes by the recipe and measures the pruned model: one pass over the files. */
  async prune(recipe: PruneRecipe, opts: StreamedRunOptions = {}): Promise<PruneReport> {
    const { report } = await this.exclusive(opts.signal, () =>
      this.run(recipe, this.evaluation(opts.batchSize, true), opts, null),
    );
    return report!;
  }

  /**
   * Prunes by the recipe into `opts.sink`: the weight files and masks as the pass writes them, then
   * config.json, recipe.json and the copied files. Measured when there is an evaluation set.
   * Returns the files' names and sizes in writing order.
   */
  async export(recipe: PruneRecipe, opts: StreamedExportOptions): Promise<{ name: string; bytes: number }[]> {
    const { report, result, calibration } = await this.exclusive(opts.signal, () =>
      this.run(recipe, this.evaluation(opts.batchSize, false), opts, opts.sink),
    );
    const small = streamedSmallFiles(
      this.config,
      { ...opts.provenance, calibration: calibration?.description ?? null, denseMetric: this.dense },
      result,
      report,
      opts.copied,
    );
    for (const [name, bytes] of small.files) {
      const sink = await opts.sink(name, bytes.length);
      await sink.write(0, bytes);
      await sink.close();
    }
    return [...[...small.files].map(([name, b]) => ({ name, bytes: b.length })), ...result.export!.files];
  }

  private async run(
    recipe: PruneRecipe,
    evaluation: LmEvaluation | null,
    opts: StreamedRunOptions,
    sink: OpenSink | null,
  ): Promise<{ report: PruneReport | null; result: StreamedPruneResult; calibration: CalibrationData | null }> {
    const choices = choicesOf(recipe, familyOf(this.config.kind));
    checkChoices(choices);
    const why = streamRefusal(choices);
    if (why) throw new ModelError(`this model is read a block at a time, and so it cannot be pruned so: ${why}`);
    const calibration = recipe.calibration
      ? makeCalibration(this.config, recipe.calibration, {
          train: this.calibSet,
          heldOut: this.evalData,
          tokenizer: this.checkpoint.tokenizer,
        })
      : null;
    this.check(recipe, calibration, evaluation);
    const result = await pruneStreamed({
      checkpoint: this.checkpoint,
      recipe,
      calibration,
      evaluation,
      measureDense: this.dense === null,
      statistics: this.kept.forPass(recipe, calibration),
      exportTo: sink,
      signal: opts.signal,
      onProgress: opts.onProgress,
    });
    if (result.denseMetric) this.dense = result.denseMetric;
    return { report: streamedReport(recipe, calibration, result), result, calibration };
  }

  /** The evaluation windows of the current set; null when there is none (refused when `required`). */
  private evaluation(batchSize: number | undefined, required: boolean): LmEvaluation | null {
    const set = this.evalData;
    if (!set) {
      if (required) throw new ModelError('this model has no evaluation text to measure it on; give one');
      return null;
    }
    if (set.kind !== 'text') throw new ModelError('the evaluation set holds images, but the model reads text');
    this.evalTokens ??= this.encode(set);
    const tokenizer = this.checkpoint.tokenizer!;
    const o = this.evalOptions;
    return {
      tokens: this.evalTokens,
      bytes: set.bytes.length,
      context: this.evalWindow,
      stride: o.stride ?? this.evalWindow,
      maxWindows: o.maxWindows,
      tokenBytes: (id) => tokenizer.tokenToBytes(id).length,
      batchSize,
    };
  }

  private estimate(
    recipe: PruneRecipe | null,
    calibration: CalibrationData | null,
    evaluation: LmEvaluation | null = null,
  ): MemoryEstimate {
    const windows = evaluation
      ? evalWindowCount(this.config, evaluation.tokens.length, this.evalOptions, 'the evaluation text')
      : 0;
    // A prune carries the pruned model's windows, and the dense model's until it is measured.
    const carried = recipe && this.dense === null ? 2 : 1;
    return streamedMemory(this.checkpoint, {
      calibrationTokens: calibration?.kind === 'lm' ? calibration.count * calibration.length : 0,
      evaluationTokens: (windows * (evaluation?.context ?? 0) * carried) / 2,
      evaluationBatchTokens: evaluation ? (evaluation.batchSize ?? 2) * evaluation.context : 0,
      gram: recipe !== null && blockCapture(resolvePruneRecipe(recipe, familyOf(this.config.kind))).activationGram,
    });
  }

  /** Refuses a run that would not fit the budget, with the estimate part by part. */
  private check(recipe: PruneRecipe | null, calibration: CalibrationData | null, evaluation: LmEvaluation | null) {
    const e = this.estimate(recipe, calibration, evaluation);
    if (e.bytes > this.budget)
      throw new ModelError(
        `a block at a time this run needs about ${describeEstimate(e)}, over the memory budget of ${formatBytes(this.budget)}: use fewer calibration windows, shorter windows or less evaluation text`,
      );
  }

  private encode(set: DataSet & { kind: 'text' }): Int32Array {
    return encodeText(this.checkpoint.tokenizer!, set);
  }
}
