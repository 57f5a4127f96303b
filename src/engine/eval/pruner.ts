// Prune a loaded model by a recipe and measure the result: the metric on the held-out set,
// nonzero parameters, FLOPs (dense-equivalent and effective), sizes, and the time each stage took.
// Calibration data and the statistics computed from the dense model are cached, so a sweep (or a
// slider) computes them once, not once per point.
import * as tf from '@tensorflow/tfjs';
import type { HostTensor } from '../model/checkpoint';
import { costReport } from '../model/cost';
import type { Weights } from '../model/types';
import type { LinearRole, LinearSpec } from '../model/schema';
import { isCausalLm, numLayers, sequenceLength, type ModelConfig } from '../model/config';
import type { ModelSession } from '../session';
import {
  allocationDefaults,
  type CalibrationMode,
  type Family,
  familyOf,
  type MethodId,
  needsOf,
} from '../pruning/catalogue';
import { evoPressSearch, type EvoPressState } from '../pruning/evopress';
import { DenseDivergence } from './divergence';
import {
  outlierRatio,
  owlAllocation,
  sensitivityAllocation,
  uniformAllocation,
  type SensitivityCurve,
} from '../pruning/allocation';
import {
  calibrationLoss,
  makeCalibration,
  withDenseLabels,
  type CalibrationData,
  type CalibrationSpec,
} from '../pruning/calibration';
import { toRows } from '../pruning/layout';
import { maskedValues } from '../pruning/masked';
import { wandaScores } from '../pruning/wanda';
import {
  collectStats,
  prunableLinears,
  pruneUnstructured,
  type PruningStats,
  type UnstructuredResult,
} from '../pruning/unstructured';
import type { EvalOptions, Metrics } from './metrics';
import { planStructured, type StructuredPlan } from '../pruning/structured/recipe';
import { tokenCounts } from '../model/tokens';
import { evaluateLmLastPosition, type LastPositionMetrics } from './last-position';
import type { LinearChoice, LinearPath, SparseLayer } from '../gpu/sparse-linears';
import { tfjsWebGpu } from '../gpu/tfjs-device';
import { nm24Bytes } from '../gpu/nm24';
import type { QuantSettings } from '../quant/types';

import {
  checkRecipe,
  choicesOf,
  needsCalibration,
  type PruneRecipe,
  type ResolvedPruneRecipe,
  resolvePruneRecipe,
  resolveStructuredRecipe,
  type StructuredRecipe,
} from '../pruning/recipe';

export type { PruneRecipe };

/** The share of one prunable linear's weights its mask removes. */
export interface LayerSparsity {
  weight: string;
  layer: number;
  role: LinearRole;
  sparsity: number;
}

export interface SizeReport {
  /** f32, every parameter stored. */
  dense: number;
  /** Prunable matrices as a bitmask plus their nonzero f32 values; everything else dense. */
  sparse: number;
  /** Prunable matrices 2:4-compressed (gpu/nm24.ts: kept values + 2-bit indices), or null when the mask is not 2:4. */
  nm24: number | null;
  /**
   * The model as stored: each prunable matrix in the smallest of dense, bitmask + kept values and
   * (where its mask is 2:4) 2:4 with its indices, its values at the quantization's bits with a
   * f16 scale (and a zero point at the same bits) per row and group; everything else f32. What the
   * page's size axis plots.
   */
  stored: number;
}

export interface PruneReport {
  recipe: PruneRecipe;
  /** What calibration data was used, in words; null when the method needs none. */
  calibration: string | null;
  metric: Metrics;
  params: number;
  nonzeroParams: number;
  /** Sparsity actually reached over the prunable weights. */
  sparsity: number;
  denseFlops: number;
  flops: number;
  bytes: SizeReport;
  /** Share of each block's prunable weights removed, counted from the masks applied. */
  blockSparsity: number[];
  /** The same for each prunable linear, counted from its mask. */
  layerSparsity: LayerSparsity[];
  /**
   * What the recipe asked of each block (its allocation's split, or the explicit one); null where no
   * per-block target exists (a global ranking, N:M, structured pruning).
   */
  targetBlockSparsity: number[] | null;
  /** OWL's per-block outlier ratios (% of Wanda scores above M × their block's mean) when OWL allocated. */
  outlierRatios: number[] | null;
  /** How the calibration statistics were gathered; null when the method reads none. */
  calibrationMode: CalibrationMode | null;
  /**
   * Milliseconds in each stage; `firstEstimate`, from the start of measuring to its first running
   * estimate (the first batch's metric: what a slider step shows first), null where none was asked.
   */
  timeMs: { calibration: number; prune: number; evaluate: number; firstEstimate: number | null };
  /** How each pruned layer's product ran in the evaluation (WebGPU only; null elsewhere). */
  kernels: LinearChoice[] | null;
}

/** A structured recipe (its calibration data included). */
export type StructuredPruneRecipe = StructuredRecipe;

export type StructuredReport = Omit<PruneReport, 'recipe'> & {
  recipe: StructuredPruneRecipe;
  /** What was removed, in words. */
  structure: string;
};

/** A searched allocation's best split so far (EvoPress), after each generation. */
export interface SearchProgress {
  generation: number;
  generations: number;
  /** The best split's fitness: mean KL divergence from the dense model's predictions (nats per token). */
  fitness: number;
  blockSparsity: number[];
  evaluations: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (stage: string, fraction: number) => void;
  /** Hears a searched allocation's best split after each generation. */
  onSearch?: (p: SearchProgress) => void;
  /** How the pruned model is measured: examples per batch, and the running metric after each batch. */
  evaluation?: Pick<EvalOptions, 'batchSize' | 'firstBatchSize' | 'onPartial'>;
}

/** `opts` with its running estimates also timed: ms() is how long after `since` the first came. */
function firstEstimateTimer(opts: RunOptions, since: number): { opts: RunOptions; ms: () => number | null } {
  const onPartial = opts.evaluation?.onPartial;
  if (!onPartial) return { opts, ms: () => null };
  let at: number | null = null;
  const timed: RunOptions = {
    ...opts,
    evaluation: {
      ...opts.evaluation,
      onPartial: (partial) => {
        at ??= performance.now() - since;
        onPartial(partial);
      },
    },
  };
  return { opts: timed, ms: () => at };
}

/**
 * A token-pruned causal LM is scored on one prediction per window (the last position); windows
 * start every context / this many tokens, so the score rests on many predictions.
 */
export const LAST_POSITION_STRIDE_DIVISOR = 4;

export const DEFAULT_CALIBRATION: Record<Family, CalibrationSpec> = {
  'causal-lm': { source: 'train', count: 32, seed: 0 },
  'image-classifier': { source: 'train', count: 128, seed: 0 },
};

/** What an allocation decided: each block's sparsity, and what it decided from. */
export interface BlockSplit {
  blockSparsity: number[];
  /** Each prunable linear's own sparsity, when the allocation split over linears (EvoPress per linear). */
  linearSparsity?: number[];
  /** OWL's per-block outlier ratios; null for other allocations. */
  outlierRatios: number[] | null;
}

/** Offspring per EvoPress generation: a quarter of the reference's 64, for a search in a browser tab. */
const EVOPRESS_OFFSPRING = 16;

/** Prunable weights of each block. */
function blockParams(c: ModelConfig): number[] {
  return Array.from({ length: numLayers(c) }, (_, l) =>
    prunableLinears(c)
      .filter((s) => s.layer === l)
      .reduce((a, s) => a + s.inFeatures * s.outFeatures, 0),
  );
}

export class Pruner {
  private readonly calibCache = new Map<string, CalibrationData>();
  private readonly statsCache = new Map<string, PruningStats>();
  private readonly ratiosCache = new Map<string, number[]>();
  private readonly curvesCache = new Map<string, SensitivityCurve[]>();
  private readonly searchStates = new Map<string, EvoPressState>();
  private readonly denseLastPosition = new Map<string, LastPositionMetrics>();

  constructor(readonly session: ModelSession) {}

  /** What the model does, as the catalogue groups models. */
  get family(): Family {
    return familyOf(this.session.config.kind);
  }

  calibSpec(r: { calibration?: CalibrationSpec }): CalibrationSpec {
    return r.calibration ?? DEFAULT_CALIBRATION[this.family];
  }

  /** The calibration data for a spec, made once and cached (unlabelled images labelled by the dense model). */
  async calibration(spec: CalibrationSpec): Promise<CalibrationData> {
    const key = JSON.stringify({ ...spec, custom: spec.custom ? 'custom' : undefined });
    return this.cached(this.calibCache, key, () => {
      const s = this.session;
      const raw = makeCalibration(s.config, spec, {
        train: s.calibSet,
        heldOut: s.evalSet,
        tokenizer: s.checkpoint.tokenizer,
      });
      return withDenseLabels(s.config, s.weights, raw);
    });
  }

  /** The dense model's statistics a recipe scores from (none for block-by-block methods), cached. */
  async stats(r: ResolvedPruneRecipe, calib: CalibrationData | null, opts: RunOptions = {}): Promise<PruningStats> {
    const key = `${r.method}|${r.calibrationMode}|${JSON.stringify(this.calibSpec(r))}`;
    return this.cached(this.statsCache, key, () =>
      collectStats(this.session.config, this.session.weights, r, calib, {
        signal: opts.signal,
        onProgress: (f) => opts.onProgress?.('calibration statistics', f),
      }),
    );
  }

  /** Per-block sparsity: the recipe's explicit one, or its allocation's (none for N:M or a global ranking). */
  async blockSplit(r: ResolvedPruneRecipe, calib: CalibrationData | null, opts: RunOptions): Promise<BlockSplit> {
    const c = this.session.config;
    const layers = numLayers(c);
    if (r.blockSparsity) return { blockSparsity: checkedBlockSparsity(r.blockSparsity, layers), outlierRatios: null };
    if (r.allocation === 'uniform')
      return { blockSparsity: uniformAllocation(layers, r.sparsity), outlierRatios: null };
    if (!calib) throw new Error(`the ${r.allocation} allocation needs calibration data`);
    if (r.allocation === 'evopress') return { ...(await this.evoPress(r, calib, opts)), outlierRatios: null };
    if (r.allocation === 'owl') {
      const { m, lambda } = r.owl!;
      const outlierRatios = await this.outlierRatios(r, m, calib, opts);
      return { blockSparsity: owlAllocation(outlierRatios, r.sparsity, lambda), outlierRatios };
    }
    const curves = await this.sensitivity(r, calib, opts);
    return { blockSparsity: sensitivityAllocation(curves, blockParams(c), r.sparsity), outlierRatios: null };
  }

  /** OWL's per-block outlier ratios: % of the block's Wanda scores on the dense model above M × their mean. */
  async outlierRatios(r: PruneRecipe, m: number, calib: CalibrationData, opts: RunOptions = {}): Promise<number[]> {
    const key = `${m}|${JSON.stringify(this.calibSpec(r))}`;
    return this.cached(this.ratiosCache, key, async () => {
      const c = this.session.config;
      const { sqSum } = await this.stats(
        resolvePruneRecipe(
          { method: 'wanda', sparsity: 0, calibration: r.calibration, calibrationMode: 'one-shot' },
          this.family,
        ),
        calib,
        opts,
      );
      return Array.from({ length: numLayers(c) }, (_, l) =>
        outlierRatio(
          prunableLinears(c)
            .filter((s) => s.layer === l)
            .map((s) =>
              wandaScores(toRows(this.host(s.weight).data, s), s.outFeatures, s.inFeatures, sqSum!.get(s.weight)!),
            ),
          m,
        ),
      );
    });
  }

  /**
   * Per-block sensitivity: calibration loss with only that block pruned, at 0…0.9 sparsity, by the
   * recipe's scores (SparseGPT's own reconstruction is too slow to repeat 40 times; Wanda's scores,
   * which share its input statistics, stand in for it). With one block pruned, its inputs are the
   * dense model's either way, so the scores come from the dense model's statistics.
   */
  async sensitivity(r: PruneRecipe, calib: CalibrationData, opts: RunOptions = {}): Promise<SensitivityCurve[]> {
    const c = this.session.config;
    const one = this.oneShotStandIn(r);
    const key = `${one.method}|${one.scope}|${JSON.stringify(this.calibSpec(r))}`;
    return this.cached(this.curvesCache, key, async () => {
      const layers = numLayers(c);
      const grid = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
      const stats = await this.stats(one, calib, opts);
      const dense = await calibrationLoss(c, this.session.weights, calib, { signal: opts.signal });
      const curves: SensitivityCurve[] = [];
      for (let l = 0; l < layers; l++) {
        const losses = [dense];
        for (const s of grid.slice(1)) {
          const only = Array.from({ length: layers }, (_, k) => (k === l ? s : 0));
          const res = await pruneUnstructured(
            c,
            this.session.checkpoint.weights,
            { ...one, sparsity: s, blockSparsity: only },
            calib,
            stats,
            { signal: opts.signal, weights: this.session.weights },
          );
          losses.push(await this.withPruned(res, (w) => calibrationLoss(c, w, calib, { signal: opts.signal })));
          opts.onProgress?.('sensitivity', (l * grid.length + losses.length) / (layers * grid.length));
        }
        curves.push({ layer: l, sparsities: grid, losses });
      }
      return curves;
    });
  }

  /**
   * EvoPress's split (pruning/evopress.ts): candidates are pruned by the recipe's scores on the
   * dense model's statistics (one-shot; Wanda's for SparseGPT, as the sensitivity allocation does)
   * and scored by the KL divergence of their predictions from the dense model's on the first
   * calibration windows. The search's state is kept per recipe and calibration: asking for more
   * steps, or again after a cancel, continues it instead of starting over.
   */
  async evoPress(
    r: ResolvedPruneRecipe,
    calib: CalibrationData,
    opts: RunOptions = {},
  ): Promise<Pick<BlockSplit, 'blockSparsity' | 'linearSparsity'>> {
    const c = this.session.config;
    const one = this.oneShotStandIn(r);
    const steps = r.evopress?.steps ?? allocationDefaults('evopress').steps;
    const perLinear = r.evopress?.units === 'linears';
    const specs = prunableLinears(c);
    const perBlock = blockParams(c);
    const unitParams = perLinear ? specs.map((s) => s.inFeatures * s.outFeatures) : perBlock;
    // A split over linears, as each block's weighted mean: what the report and the sliders show.
    const split = (sparsities: number[]) => {
      if (!perLinear) return { blockSparsity: sparsities };
      const removed = perBlock.map(() => 0);
      specs.forEach((s, i) => {
        removed[s.layer] += sparsities[i] * unitParams[i];
      });
      return { blockSparsity: perBlock.map((p, l) => removed[l] / p), linearSparsity: sparsities };
    };
    const key = JSON.stringify([one.method, one.scope, r.sparsity, r.seed, r.evopress?.units, this.calibSpec(r)]);
    const kept = this.searchStates.get(key);
    const state = kept && kept.generation <= steps ? kept : undefined;
    const stats = await this.stats(one, calib, opts);
    const divergence = new DenseDivergence(c, this.session.weights, calib);
    const count = calib.count;
    try {
      const result = await evoPressSearch(
        { unitParams, target: r.sparsity },
        async (sparsities, windows, signal) => {
          const res = await pruneUnstructured(
            c,
            this.session.checkpoint.weights,
            { ...one, sparsity: r.sparsity, ...split(sparsities) },
            calib,
            stats,
            { signal, weights: this.session.weights },
          );
          return this.withPruned(res, (w) => divergence.mean(w, windows, signal));
        },
        {
          generations: steps,
          offspring: EVOPRESS_OFFSPRING,
          selection: [
            { windows: Math.max(1, Math.round(count / 8)), survivors: 4 },
            { windows: Math.max(1, Math.round(count / 2)), survivors: 2 },
            { windows: count, survivors: 1 },
          ],
          seed: r.seed,
          state,
          signal: opts.signal,
          onProgress: (p) => {
            this.searchStates.set(key, p.state);
            opts.onProgress?.('EvoPress search', p.generation / p.generations);
            opts.onSearch?.({
              generation: p.generation,
              generations: p.generations,
              fitness: p.best.fitness,
              blockSparsity: split(p.best.sparsities).blockSparsity,
              evaluations: p.evaluations,
            });
          },
        },
      );
      this.searchStates.set(key, result.state);
      return split(result.sparsities);
    } finally {
      divergence.dispose();
    }
  }

  /** A weight recipe's scores from the dense model in one pass (SparseGPT's by Wanda's): what an allocation compares splits with. */
  private oneShotStandIn(r: PruneRecipe): ResolvedPruneRecipe {
    const method: MethodId = r.method === 'sparsegpt' ? 'wanda' : r.method;
    const base = resolvePruneRecipe(
      { method, sparsity: 0, scope: r.nm ? undefined : r.scope, calibration: r.calibration, seed: r.seed },
      this.family,
    );
    return { ...base, calibrationMode: base.calibrationMode && ('one-shot' as const) };
  }

  /** The cache's value for key, computed and kept on first use. */
  private async cached<T>(cache: Map<string, T>, key: string, make: () => Promise<T>): Promise<T> {
    let v = cache.get(key);
    if (v === undefined) {
      v = await make();
      cache.set(key, v);
    }
    return v;
  }

  private host(name: string): HostTensor {
    return this.session.checkpoint.weights.get(name)!;
  }

  /**
   * Runs f on the model's weights with the result applied (masks multiplied in), then frees them.
   * f can also ask for the masked values of a pruned matrix, as stored (made when asked: the
   * tensors are masked by the backend, a pass the WASM backend makes natively where a loop here
   * took 26 ms of a gpt-bytes slider step in the page).
   */
  async withPruned<T>(
    res: UnstructuredResult,
    f: (w: Weights, masked: (name: string) => Float32Array) => Promise<T>,
  ): Promise<T> {
    const made: tf.Tensor[] = [];
    const w: Weights = new Map(this.session.weights);
    for (const [name, mask] of res.masks) {
      const values = res.weights?.get(name);
      const tensor = tf.tidy(() => {
        const base = values ? tf.tensor(values.data, values.shape) : this.session.weights.get(name)!;
        return tf.where(tf.tensor(mask, base.shape, 'bool'), base, tf.zerosLike(base));
      });
      made.push(tensor);
      w.set(name, tensor);
    }
    const masked = new Map<string, Float32Array>();
    const maskedOf = (name: string) => {
      let data = masked.get(name);
      if (!data) {
        data = maskedValues((res.weights?.get(name) ?? this.host(name)).data, res.masks.get(name)!);
        masked.set(name, data);
      }
      return data;
    };
    try {
      return await f(w, maskedOf);
    } finally {
      tf.dispose(made);
    }
  }

  /**
   * The pruned model's metric. On WebGPU its pruned layers run on our sparse kernels where they
   * measure faster (gpu/sparse-linears.ts); `kernels` says which ran how, null on other backends.
   * `paths` limits the candidates (bench:gpu compares TF.js alone with the measured choice).
   */
  async evaluatePruned(
    res: UnstructuredResult,
    opts: RunOptions = {},
    paths?: readonly LinearPath[],
  ): Promise<{ metric: Metrics; kernels: LinearChoice[] | null }> {
    return this.withPruned(res, async (w, masked) => {
      // Loaded only on WebGPU: it brings the WGSL sources, which Node scripts off WebGPU need not load.
      const linears = tfjsWebGpu()
        ? (await import('../gpu/sparse-linears')).SparseLinears.forCurrentBackend(
            this.sparseLayers(res, w, masked),
            paths,
          )
        : null;
      try {
        const metric = await this.session.evaluateWith(w, {
          ...opts.evaluation,
          linears: linears ?? undefined,
          signal: opts.signal,
          onProgress: (f) => opts.onProgress?.('evaluating', f),
        });
        return { metric, kernels: linears?.report() ?? null };
      } finally {
        linears?.destroy();
      }
    });
  }

  /** The pruned layers as gpu/sparse-linears.ts plans them: the [out, in] view is made only if a format of ours needs it. */
  private sparseLayers(res: UnstructuredResult, w: Weights, masked: (name: string) => Float32Array): SparseLayer[] {
    return prunableLinears(this.session.config)
      .filter((spec) => res.masks.has(spec.weight))
      .map((spec) => {
        const mask = res.masks.get(spec.weight)!;
        return {
          weight: spec.weight,
          out: spec.outFeatures,
          in: spec.inFeatures,
          density: mask.reduce((a, v) => a + v, 0) / mask.length,
          dense: w.get(spec.weight)!,
          transposed: spec.layout === 'out_in',
          view: () => ({ rows: toRows(masked(spec.weight), spec), mask: toRows(mask, spec) }),
        };
      });
  }

  /**
   * Prunes by the recipe: refused first when the catalogue cannot honour it, then resolved (every
   * default filled in), split over the blocks, and pruned. Hands back the masks (and SparseGPT's
   * weights) and what was used.
   */
  async prune(
    r: PruneRecipe,
    opts: RunOptions = {},
  ): Promise<{
    recipe: ResolvedPruneRecipe;
    result: UnstructuredResult;
    split: BlockSplit;
    calibration: string | null;
    timeMs: { calibration: number; prune: number };
  }> {
    const c = this.session.config;
    checkRecipe(r, this.family);
    const recipe = resolvePruneRecipe(r, this.family);
    const t0 = performance.now();
    const needs = needsOf(choicesOf(recipe, this.family));
    const calib = needs.calibration ? await this.calibration(this.calibSpec(recipe)) : null;
    // The split first: a bad explicit one is refused before any statistics are computed.
    const split = await this.blockSplit(recipe, calib, opts);
    const stats = await this.stats(recipe, calib, opts);
    const t1 = performance.now();
    const result = await pruneUnstructured(
      c,
      this.session.checkpoint.weights,
      { ...recipe, blockSparsity: split.blockSparsity, linearSparsity: split.linearSparsity },
      calib,
      stats,
      { signal: opts.signal, weights: this.session.weights, onProgress: (f) => opts.onProgress?.('pruning', f) },
    );
    return {
      recipe,
      result,
      split,
      calibration: calib?.description ?? null,
      timeMs: { calibration: t1 - t0, prune: performance.now() - t1 },
    };
  }

  async measure(r: PruneRecipe, opts: RunOptions = {}): Promise<PruneReport> {
    return (await this.pruneAndMeasure(r, opts)).report;
  }

  /** measure(), also handing back the masks and weights (for an export of what was measured). */
  async pruneAndMeasure(
    r: PruneRecipe,
    opts: RunOptions = {},
  ): Promise<{ report: PruneReport; result: UnstructuredResult }> {
    const p = await this.prune(r, opts);
    opts.signal?.throwIfAborted();
    const t0 = performance.now();
    const first = firstEstimateTimer(opts, t0);
    const { metric, kernels } = await this.evaluatePruned(p.result, first.opts);
    // A result that arrives after its cancellation is stale: whoever aborted no longer wants it.
    opts.signal?.throwIfAborted();
    const evaluate = performance.now() - t0;
    const cost = costReport(this.session.config, { weights: p.result.masks });
    const prunable = prunableLinears(this.session.config).reduce((a, s) => a + s.inFeatures * s.outFeatures, 0);
    const kept = [...p.result.masks.values()].reduce((a, m) => a + m.reduce((x, v) => x + v, 0), 0);
    const report: PruneReport = {
      recipe: p.recipe,
      calibration: p.calibration,
      metric,
      params: cost.params,
      nonzeroParams: cost.nonzeroParams,
      sparsity: 1 - kept / prunable,
      denseFlops: cost.denseFlops,
      flops: cost.flops,
      bytes: sizes(this.session, p.result.masks, p.recipe.quant ?? null),
      ...measuredSparsity(this.session.config, p.result.masks),
      targetBlockSparsity: r.nm || p.recipe.scope === 'global' ? null : p.split.blockSparsity,
      outlierRatios: p.split.outlierRatios,
      calibrationMode: p.recipe.calibrationMode ?? null,
      timeMs: { ...p.timeMs, evaluate, firstEstimate: first.ms() },
      kernels,
    };
    return { report, result: p.result };
  }

  /**
   * Structured pruning (heads, FFN neurons, blocks, sublayers, tokens) measured like measure().
   * A token-pruned causal LM is scored on the last position of each window only (its other outputs
   * have seen later tokens through the selection), so the report's metric is that last-position
   * loss, and `structure` gives the dense model's on the same positions for comparison.
   */
  async measureStructured(r: StructuredPruneRecipe, opts: RunOptions = {}): Promise<StructuredReport> {
    return (await this.pruneAndMeasureStructured(r, opts)).report;
  }

  /** measureStructured(), also handing back the plan (the masks, for an export of what was measured). */
  async pruneAndMeasureStructured(
    r: StructuredPruneRecipe,
    opts: RunOptions = {},
  ): Promise<{ report: StructuredReport; plan: StructuredPlan }> {
    const s = this.session;
    const c = s.config;
    checkRecipe(r, this.family);
    const recipe = resolveStructuredRecipe(r, this.family);
    const t0 = performance.now();
    const calib = needsCalibration(recipe, this.family) ? await this.calibration(this.calibSpec(recipe)) : null;
    const t1 = performance.now();
    const plan = await planStructured(c, s.weights, calib, recipe, {
      signal: opts.signal,
      onProgress: (f) => opts.onProgress?.('pruning', f),
    });
    opts.signal?.throwIfAborted();
    const t2 = performance.now();
    const first = firstEstimateTimer(opts, t2);
    const evalOpts = {
      ...first.opts.evaluation,
      masks: plan.masks,
      signal: opts.signal,
      onProgress: (f: number) => opts.onProgress?.('evaluating', f),
    };
    let metric: Metrics;
    let structure = plan.summary;
    if (plan.tokenKeep && isCausalLm(c)) {
      const tokens = this.evalTokens();
      // Many windows, overlapping: one prediction each.
      const stride = Math.max(1, Math.floor(sequenceLength(c) / LAST_POSITION_STRIDE_DIVISOR));
      const last = (keep?: number[]) =>
        evaluateLmLastPosition(c, s.weights, tokens, {
          ...evalOpts,
          stride,
          tokenKeep: keep,
          tokenScoring: plan.tokenScoring,
          tokenBytes: (id) => s.checkpoint.tokenizer!.tokenToBytes(id).length,
        });
      const pruned = await last(plan.tokenKeep);
      const dense = await this.cached(this.denseLastPosition, String(stride), () => last());
      metric = {
        kind: 'lm',
        loss: pruned.loss,
        bitsPerByte: pruned.bitsPerByte,
        perplexity: Math.exp(pruned.loss),
        nextTokenAccuracy: pruned.accuracy,
        tokens: pruned.windows,
      };
      structure += `; scored on the last position of ${pruned.windows} windows, one every ${stride} tokens (dense model there: ${dense.bitsPerByte.toFixed(3)} bits/byte)`;
    } else {
      metric = await s.evaluateWith(s.weights, {
        ...evalOpts,
        tokenKeep: plan.tokenKeep,
        tokenScoring: plan.tokenScoring,
      });
    }
    opts.signal?.throwIfAborted();
    const evaluate = performance.now() - t2;
    const masks = plan.masks;
    const cost = costReport(c, {
      heads: masks.heads,
      neurons: masks.neurons,
      attention: masks.attention,
      mlp: masks.mlp,
      tokens: tokenCounts(c, plan.tokenKeep, { masks }),
    });
    const blockLinears = cost.linears.filter((x) => x.layer >= 0);
    const blockParams = blockLinears.reduce((a, x) => a + x.params, 0);
    const blockKept = blockLinears.reduce((a, x) => a + x.nonzero, 0);
    const report: StructuredReport = {
      recipe,
      structure,
      calibration: calib?.description ?? null,
      metric,
      params: cost.params,
      nonzeroParams: cost.nonzeroParams,
      // Share of the blocks' linear parameters (weights and biases) removed.
      sparsity: 1 - blockKept / blockParams,
      denseFlops: cost.denseFlops,
      flops: cost.flops,
      // Removed structures leave smaller dense matrices: no index overhead, no 2:4 format.
      bytes: { dense: 4 * cost.params, sparse: 4 * cost.nonzeroParams, nm24: null, stored: 4 * cost.nonzeroParams },
      blockSparsity: cost.blocks.map((b) => 1 - b.nonzero / Math.max(1, b.params)),
      layerSparsity: blockLinears.map((x) => ({
        weight: x.weight,
        layer: x.layer,
        role: x.role,
        sparsity: 1 - x.nonzero / Math.max(1, x.params),
      })),
      targetBlockSparsity: null,
      outlierRatios: null,
      calibrationMode: null,
      timeMs: { calibration: t1 - t0, prune: t2 - t1, evaluate, firstEstimate: first.ms() },
      // Physically smaller dense matrices: nothing for a sparse kernel to do.
      kernels: null,
    };
    return { report, plan };
  }

  private evalTokens(): Int32Array {
    const set = this.session.evalSet;
    if (set?.kind !== 'text') throw new Error('this model has no text evaluation set');
    return Int32Array.from(this.session.checkpoint.tokenizer!.encode(new TextDecoder().decode(set.bytes)));
  }

  /** One point per sparsity, yielded as each is measured; stops between points when aborted. */
  async *sweep(
    base: Omit<PruneRecipe, 'sparsity'>,
    sparsities: number[],
    opts: RunOptions = {},
  ): AsyncGenerator<PruneReport> {
    for (const sparsity of sparsities) {
      opts.signal?.throwIfAborted();
      yield await this.measure({ ...base, sparsity }, opts);
    }
  }
}

/** An explicit per-block sparsity, refused with a clear message when it does not fit the model. */
function checkedBlockSparsity(b: number[], layers: number): number[] {
  if (b.length !== layers)
    throw new Error(`per-block sparsity has ${b.length} values but the model has ${layers} blocks`);
  const bad = b.findIndex((v) => !(Number.isFinite(v) && v >= 0 && v < 1));
  if (bad >= 0) throw new Error(`per-block sparsity of block ${bad + 1} must be from 0 to below 1, got ${b[bad]}`);
  return [...b];
}

/** What the report reads of one prunable linear's mask: weights kept, and whether the mask is 2:4. */
export interface MaskCount {
  kept: number;
  is24: boolean;
}

/** Each prunable linear's mask counted (a linear without a mask keeps every weight). */
export function countMasks(config: ModelConfig, masks: ReadonlyMap<string, Uint8Array>): Map<string, MaskCount> {
  const out = new Map<string, MaskCount>();
  for (const spec of prunableLinears(config)) {
    const m = masks.get(spec.weight);
    if (m) out.set(spec.weight, maskCount(spec, m));
  }
  return out;
}

/** One linear's mask counted. */
export function maskCount(spec: LinearSpec, m: Uint8Array): MaskCount {
  return {
    kept: m.reduce((a, v) => a + v, 0),
    is24: is24(
      m,
      spec.layout === 'in_out' ? spec.outFeatures : 1,
      spec.inFeatures,
      spec.layout === 'in_out' ? 1 : spec.inFeatures,
    ),
  };
}

/** Per block and per prunable linear, the share of weights the masks remove. */
export function measuredSparsity(
  config: ModelConfig,
  masks: ReadonlyMap<string, Uint8Array> | ReadonlyMap<string, MaskCount>,
): { blockSparsity: number[]; layerSparsity: LayerSparsity[] } {
  const counts = countsOf(config, masks);
  const specs = prunableLinears(config);
  const removed = new Array<number>(numLayers(config)).fill(0);
  const total = new Array<number>(numLayers(config)).fill(0);
  const layerSparsity = specs.map((spec) => {
    const n = spec.inFeatures * spec.outFeatures;
    const gone = n - (counts.get(spec.weight)?.kept ?? n);
    removed[spec.layer] += gone;
    total[spec.layer] += n;
    return { weight: spec.weight, layer: spec.layer, role: spec.role, sparsity: gone / n };
  });
  return { blockSparsity: removed.map((r, l) => r / Math.max(1, total[l])), layerSparsity };
}

function countsOf(
  config: ModelConfig,
  masks: ReadonlyMap<string, Uint8Array> | ReadonlyMap<string, MaskCount>,
): ReadonlyMap<string, MaskCount> {
  const first = masks.values().next().value;
  return first instanceof Uint8Array
    ? countMasks(config, masks as ReadonlyMap<string, Uint8Array>)
    : (masks as ReadonlyMap<string, MaskCount>);
}

/** Bytes of the model stored dense, as bitmask + values, and 2:4-compressed, from every prunable linear's count. */
export function sizeReport(
  config: ModelConfig,
  counts: ReadonlyMap<string, MaskCount>,
  quant: QuantSettings | null = null,
): SizeReport {
  const specs = prunableLinears(config);
  const params = costReport(config).params;
  let matrices = 0;
  let sparse = 0;
  let nm: number | null = 0;
  let stored = 0;
  for (const spec of specs) {
    const n = spec.inFeatures * spec.outFeatures;
    const c = counts.get(spec.weight) ?? { kept: n, is24: false };
    matrices += n;
    sparse += Math.ceil(n / 8) + 4 * c.kept;
    if (nm !== null) nm = c.is24 ? nm + nm24Bytes(spec.outFeatures, spec.inFeatures) : null;
    stored += storedMatrixBytes(spec, c, quant);
  }
  const rest = 4 * (params - matrices);
  return { dense: 4 * params, sparse: rest + sparse, nm24: nm === null ? null : rest + nm, stored: rest + stored };
}

/** One prunable matrix as stored (SizeReport.stored): the smallest layout, its values at the bits. */
export function storedMatrixBytes(spec: LinearSpec, c: MaskCount, quant: QuantSettings | null): number {
  const n = spec.inFeatures * spec.outFeatures;
  const bits = quant?.bits ?? 32;
  const values = (count: number) => Math.ceil((count * bits) / 8);
  const layouts = [values(n), Math.ceil(n / 8) + values(c.kept)];
  if (c.is24) {
    // nm24.ts's indices, beside its kept values at the bits (it stores 2 f32 values per group of 4).
    const groups = spec.outFeatures * Math.ceil(spec.inFeatures / 4);
    layouts.push(nm24Bytes(spec.outFeatures, spec.inFeatures) - 8 * groups + values(2 * groups));
  }
  const grid = quant
    ? spec.outFeatures *
      (quant.groupSize > 0 ? Math.ceil(spec.inFeatures / quant.groupSize) : 1) *
      (2 + (quant.symmetric ? 0 : quant.bits / 8))
    : 0;
  return Math.min(...layouts) + Math.ceil(grid);
}

function sizes(session: ModelSession, masks: Map<string, Uint8Array>, quant: QuantSettings | null): SizeReport {
  return sizeReport(session.config, countMasks(session.config, masks), quant);
}

/** Every group of 4 consecutive inputs of every output has at most 2 nonzeros. */
function is24(mask: Uint8Array, inStride: number, inFeatures: number, outStride: number): boolean {
  if (inFeatures % 4 !== 0) return false;
  const outs = mask.length / inFeatures;
  for (let o = 0; o < outs; o++) {
    for (let g = 0; g < inFeatures; g += 4) {
      let k = 0;
      for (let i = g; i < g + 4; i++) k += mask[o * outStride + i * inStride];
      if (k > 2) return false;
    }
  }
  return true;
}
