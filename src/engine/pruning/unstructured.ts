// Unstructured and N:M pruning of every prunable linear layer by one method: scores → selection
// at each block's sparsity (or one global threshold) → masks; SparseGPT also returns new weights.
// Methods that read activations either score every layer from statistics of the dense model
// (one-shot) or go block by block, each block calibrated on the already-pruned blocks' outputs
// (sequential, block-calibration.ts). The selection runs on our WebGPU kernels when TensorFlow.js
// runs on a GPU (gpu-select.ts).
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../model/config';
import type { HostTensor } from '../model/checkpoint';
import { linearSpecs, type LinearSpec } from '../model/schema';
import { type CalibrationMode, defaultScope, type MethodId, type Scope } from './catalogue';
import type { Weights } from '../model/types';
import { tfjsWebGpu } from '../gpu/tfjs-device';
import { calibrateBlockByBlock, collectActivationStats, type BlockStatistics } from './block-calibration';
import { collectGradients, type CalibrationData } from './calibration';
import { maskedValues } from './masked';
import { fromRows, toRows } from './layout';
import { magnitudeScores } from './magnitude';
import { nmMask } from './nm';
import { randomScores } from './random';
import { globalTopK, keepCount, type PreparedScores, prepareScores, rowTopKMask, topKMask } from './select';
import { sparseGpt } from './sparsegpt';
import type { Quantization } from './recipe';
import type { QuantizedLinear } from '../quant/types';
import { gptq } from '../quant/gptq';
import { rtnQuantize } from '../quant/rtn';
import { meanGradientScores, taylorScores } from './taylor';
import { wandaScores } from './wanda';

export interface UnstructuredRecipe {
  method: MethodId;
  /** Target fraction of prunable weights removed. */
  sparsity: number;
  scope?: Scope;
  /** Semi-structured N:M along the input dimension; replaces scope. */
  nm?: { n: number; m: number } | null;
  /** Sparsity of each block (from a layer-wise allocation); default: `sparsity` everywhere. */
  blockSparsity?: number[];
  /** Sparsity of each prunable linear, in prunableLinears' order (EvoPress per linear); replaces blockSparsity. */
  linearSparsity?: number[];
  /** For methods that read activations (Wanda, SparseGPT): block by block, or from the dense model. */
  calibrationMode?: CalibrationMode;
  seed?: number;
  /** The kept weights quantized: GPTQ in the same column sweep as SparseGPT, or after the mask. */
  quant?: Quantization | null;
}

export interface UnstructuredResult {
  /** 0/1 per weight in the checkpoint's layout, for every prunable linear layer. */
  masks: Map<string, Uint8Array>;
  /** Replacement values (SparseGPT's reconstruction, the dequantized weights), or null when only masking. */
  weights: Map<string, HostTensor> | null;
  /** Each quantized linear's codes and grid, as [out, in] rows; null without quantization. */
  quantized: Map<string, QuantizedLinear> | null;
}

/** Statistics of the dense model, reused across the points of a sweep and the steps of a slider. */
export interface PruningStats {
  /** Σx² per input feature of each linear (Wanda, one-shot). */
  sqSum?: Map<string, Float32Array>;
  /** Σ over examples of (∂L_x/∂W)² (Taylor) or ∂L/∂W of the mean loss (Taylor, mean gradient). */
  grads?: Map<string, Float32Array>;
}

export function prunableLinears(config: ModelConfig): LinearSpec[] {
  return linearSpecs(config).filter((l) => l.prunable);
}

/** Whether a method's statistics depend on the blocks pruned before (then none are collected up front). */
const sequential = (recipe: UnstructuredRecipe) =>
  recipe.method === 'sparsegpt' || (recipe.method === 'wanda' && recipe.calibrationMode === 'sequential');

/** GPTQ reads each layer's input Gram matrix, so it runs block by block whatever chose the mask. */
const gptqPass = (recipe: UnstructuredRecipe) => recipe.quant?.quantizer === 'gptq';

/** What a method needs measured on the dense model before it can score (nothing when it goes block by block). */
export async function collectStats(
  config: ModelConfig,
  weights: Weights,
  recipe: UnstructuredRecipe,
  calib: CalibrationData | null,
  opts: { signal?: AbortSignal; onProgress?: (f: number) => void } = {},
): Promise<PruningStats> {
  const { method } = recipe;
  if (sequential(recipe) || method === 'magnitude' || method === 'random') return {};
  if (!calib) throw new Error(`${method} needs calibration data`);
  if (method === 'wanda') return { sqSum: (await collectActivationStats(config, weights, calib, opts)).sqSum };
  const names = prunableLinears(config).map((l) => l.weight);
  const kind = method === 'taylor' ? 'squaredSum' : 'mean';
  return { grads: await collectGradients(config, weights, calib, names, kind, opts) };
}

/** A layer's scores from its statistics, as [out, in] rows (sqSum: Σx² of its inputs, for Wanda). */
function scoresFor(
  spec: LinearSpec,
  w: Float32Array,
  recipe: UnstructuredRecipe,
  stats: PruningStats,
  index: number,
): Float32Array {
  const rows = toRows(w, spec);
  switch (recipe.method) {
    case 'magnitude':
      return magnitudeScores(rows);
    case 'random':
      return randomScores(rows.length, (recipe.seed ?? 0) * 1009 + index);
    case 'wanda': {
      const sq = stats.sqSum?.get(spec.weight);
      if (!sq) throw new Error(`wanda: no input statistics for ${spec.weight}`);
      return wandaScores(rows, spec.outFeatures, spec.inFeatures, sq);
    }
    case 'taylor':
    case 'taylor-mean': {
      const g = stats.grads?.get(spec.weight);
      if (!g) throw new Error(`${recipe.method}: no gradient for ${spec.weight}`);
      return (recipe.method === 'taylor' ? taylorScores : meanGradientScores)(rows, toRows(g, spec));
    }
    case 'sparsegpt':
      throw new Error('sparsegpt selects its own mask');
  }
}

// Each prunable linear's place in prunableLinears(config), which a per-linear split is indexed by.
// Every linear of a pass looks itself up, so the map is built once per config.
const linearIndices = new WeakMap<ModelConfig, Map<string, number>>();

function linearIndex(config: ModelConfig, weight: string): number {
  let index = linearIndices.get(config);
  if (!index) {
    index = new Map(prunableLinears(config).map((s, i) => [s.weight, i]));
    linearIndices.set(config, index);
  }
  return index.get(weight) ?? -1;
}

/** The sparsity a linear is pruned at: its own, its block's, or the target. */
function linearSparsity(recipe: UnstructuredRecipe, spec: LinearSpec, config: ModelConfig): number {
  if (recipe.linearSparsity) return recipe.linearSparsity[linearIndex(config, spec.weight)];
  return recipe.blockSparsity?.[spec.layer] ?? recipe.sparsity;
}

interface Scored {
  method: MethodId;
  seed: number;
  stats: PruningStats | null;
  weights: Float32Array[];
  scores: Float32Array[];
}

// Scores do not depend on the sparsity, so a slider reuses them (and gpu-select.ts their uploaded
// copy, found by the array's identity). Only the last scored per model: they weigh what its
// prunable weights do.
const lastScored = new WeakMap<Map<string, HostTensor>, Scored>();

/** Every prunable layer's scores as [out, in] rows, computed once per weights, method, statistics and seed. */
function layerScores(
  specs: LinearSpec[],
  host: Map<string, HostTensor>,
  recipe: UnstructuredRecipe,
  stats: PruningStats,
): Float32Array[] {
  const { method } = recipe;
  const weights = specs.map((spec) => host.get(spec.weight)!.data);
  const seed = method === 'random' ? (recipe.seed ?? 0) : 0;
  const usedStats = method === 'magnitude' || method === 'random' ? null : stats;
  const last = lastScored.get(host);
  if (
    last?.method === method &&
    last.seed === seed &&
    last.stats === usedStats &&
    last.weights.length === weights.length &&
    last.weights.every((w, i) => w === weights[i])
  ) {
    return last.scores;
  }
  const scores = specs.map((spec, i) => scoresFor(spec, weights[i], recipe, stats, i));
  lastScored.set(host, { method, seed, stats: usedStats, weights, scores });
  return scores;
}

/**
 * Which weights compete and how many of them are kept: over all layers at once, or per layer of
 * the whole layer or of each of its rows (keep[i] for layer i), or N of every M along a row.
 */
export type SelectionPlan =
  | { kind: 'global'; keep: number }
  | { kind: 'layer' | 'row'; keep: number[] }
  | { kind: 'nm'; n: number; m: number };

function selectionPlan(config: ModelConfig, specs: LinearSpec[], recipe: UnstructuredRecipe): SelectionPlan {
  if (recipe.nm) return { kind: 'nm', n: recipe.nm.n, m: recipe.nm.m };
  const scope = recipe.scope ?? defaultScope(recipe.method);
  if (scope === 'global')
    return {
      kind: 'global',
      keep: keepCount(
        specs.reduce((a, s) => a + s.outFeatures * s.inFeatures, 0),
        recipe.sparsity,
      ),
    };
  const group = (s: LinearSpec) => (scope === 'row' ? s.inFeatures : s.outFeatures * s.inFeatures);
  return { kind: scope, keep: specs.map((s) => keepCount(group(s), linearSparsity(recipe, s, config))) };
}

// The scores a slider reuses (layerScores hands back the same arrays) prepared for selection at
// the second step that selects from them: the layers' array for a global selection, each layer's
// scores for its own. Not at the first: a one-shot pruning selects once, and preparing (sorting or
// counting every score) costs more than that one selection.
const preparedScores = new WeakMap<object, PreparedScores>();
const selectedOnce = new WeakSet<object>();

function prepared(key: Float32Array[] | Float32Array): PreparedScores | undefined {
  const known = preparedScores.get(key);
  if (known) return known;
  if (!selectedOnce.has(key)) {
    selectedOnce.add(key);
    return undefined;
  }
  const p = prepareScores(Array.isArray(key) ? key : [key]);
  preparedScores.set(key, p);
  return p;
}

/** The selection on the CPU: one mask per layer, as [out, in] rows (gpu-select.ts is its GPU twin). */
function selectRows(specs: LinearSpec[], scores: Float32Array[], plan: SelectionPlan): Uint8Array[] {
  switch (plan.kind) {
    case 'global':
      return globalTopK(scores, plan.keep, prepared(scores));
    case 'layer':
      return scores.map((s, i) => topKMask(s, plan.keep[i], prepared(s)));
    case 'row':
      return scores.map((s, i) => rowTopKMask(s, specs[i].outFeatures, specs[i].inFeatures, plan.keep[i]));
    case 'nm':
      return scores.map((s, i) => nmMask(s, specs[i].outFeatures, specs[i].inFeatures, plan.n, plan.m));
  }
}

// Loaded on first use on WebGPU: nothing else needs its shaders, which Node scripts can import only
// through the WGSL hook (bench/lib/wgsl-text.mjs).
let gpuSelect: typeof import('./gpu-select') | null = null;
let onSoftwareAdapters = false;
let warnedGpuFailure = false;

/**
 * Whether a software WebGPU adapter (SwiftShader) selects on the kernels too. Off by default: there
 * they ran 2–400× slower than the CPU selection on the shipped models (Wanda's per-row selection of
 * gpt-bytes: 24 s against 0.15 s). Tests turn it on to run the kernels' path without a GPU.
 */
export function selectOnSoftwareAdapters(on: boolean): void {
  onSoftwareAdapters = on;
}

/** On TensorFlow.js's GPUDevice when WebGPU is current on a hardware adapter (the same masks), else on the CPU. */
async function select(specs: LinearSpec[], scores: Float32Array[], plan: SelectionPlan): Promise<Uint8Array[]> {
  const device = tfjsWebGpu()?.device;
  if (device) {
    try {
      gpuSelect ??= await import('./gpu-select');
      if (onSoftwareAdapters || !gpuSelect.softwareAdapter(device))
        return await gpuSelect.selectRowsOnGpu(device, specs, scores, plan);
    } catch (e) {
      if (!warnedGpuFailure)
        console.warn(`Selecting on the GPU failed, selecting on the CPU instead: ${(e as Error).message}`);
      warnedGpuFailure = true;
    }
  }
  gpuSelect?.releaseGpuSelection(); // what it holds on the GPU is of no use to the CPU
  return selectRows(specs, scores, plan);
}

/** Masks for a scoring method (everything but SparseGPT). */
export async function scoreAndSelect(
  config: ModelConfig,
  host: Map<string, HostTensor>,
  recipe: UnstructuredRecipe,
  stats: PruningStats,
): Promise<Map<string, Uint8Array>> {
  const specs = prunableLinears(config);
  const rows = await select(specs, layerScores(specs, host, recipe, stats), selectionPlan(config, specs, recipe));
  return new Map(specs.map((spec, i) => [spec.weight, fromRows(rows[i], spec)]));
}

/** One block's pruning: each linear's mask, its values after pruning, and those as tensors. */
export interface PrunedBlock {
  masks: Map<string, Uint8Array>;
  /** Each pruned linear's weights: SparseGPT's reconstruction, the dequantized weights, or the weights with the mask's zeros. */
  values: Map<string, HostTensor>;
  tensors: Map<string, tf.Tensor>;
  /** Each quantized linear's codes and grid (none without quantization). */
  quantized: Map<string, QuantizedLinear>;
}

/**
 * Prunes block `stats.layer` from the statistics of the inputs its linears saw: SparseGPT
 * reconstructs each layer from its inputs' Gram matrix (quantizing the kept weights in the same
 * sweep under GPTQ); the other methods score (Wanda from the inputs' squared norms) and select
 * within each layer, or take the mask `fixed` gives, and GPTQ then quantizes the kept weights from
 * the Gram matrix. Round to nearest quantizes the kept weights last. `host` holds at least the
 * block's weights. One linear at a time, so that no more than one layer's scores are held.
 */
export async function pruneBlock(
  config: ModelConfig,
  host: Map<string, HostTensor>,
  recipe: UnstructuredRecipe,
  stats: BlockStatistics,
  /** Takes each linear's mask and values as it is done (then they are not kept in the result). */
  onLinear?: (
    spec: LinearSpec,
    mask: Uint8Array,
    values: HostTensor,
    quantized: QuantizedLinear | null,
  ) => Promise<void>,
  /** Masks chosen before the pass (a one-shot method's under GPTQ), by weight name. */
  fixed?: Map<string, Uint8Array>,
): Promise<PrunedBlock> {
  const specs = prunableLinears(config);
  const out: PrunedBlock = { masks: new Map(), values: new Map(), tensors: new Map(), quantized: new Map() };
  const q = recipe.quant ?? null;
  for (const spec of specs.filter((s) => s.layer === stats.layer)) {
    const w = host.get(spec.weight)!;
    const gram = () => {
      const g = stats.gram.get(spec.weight);
      if (!g) throw new Error(`${recipe.method}: no input Gram matrix for ${spec.weight}`);
      return g;
    };
    // Masks and values in the checkpoint's layout; SparseGPT and the quantizers work on [out, in] rows.
    let mask: Uint8Array;
    let data: Float32Array;
    let quantized: QuantizedLinear | null = null;
    if (recipe.method === 'sparsegpt') {
      const r = sparseGpt(toRows(w.data, spec), spec.outFeatures, spec.inFeatures, gram(), {
        sparsity: linearSparsity(recipe, spec, config),
        nm: recipe.nm ?? undefined,
        quant: q?.quantizer === 'gptq' ? q : undefined,
      });
      mask = fromRows(r.mask, spec);
      data = fromRows(r.weights, spec);
      quantized = r.quantized;
    } else {
      const given = fixed?.get(spec.weight);
      if (given) mask = given;
      else {
        // Selection is within a layer (or a row of it) for every plan a block can have.
        const score = scoresFor(spec, w.data, recipe, { sqSum: stats.sqSum }, specs.indexOf(spec));
        const [rows] = await select([spec], [score], selectionPlan(config, [spec], recipe));
        mask = fromRows(rows, spec);
      }
      if (q?.quantizer === 'gptq') {
        // The two-step baseline: GPTQ on the pruned layer (its removed weights already 0), the mask
        // held; only the drift its updates give removed weights is fed back, not their values.
        const pruned = toRows(maskedValues(w.data, mask), spec);
        const qz = gptq(pruned, spec.outFeatures, spec.inFeatures, gram(), q, toRows(mask, spec));
        data = fromRows(qz.weights, spec);
        quantized = qz;
      } else data = maskedValues(w.data, mask);
    }
    if (q?.quantizer === 'rtn') {
      const qz = rtnQuantize(toRows(data, spec), spec.outFeatures, spec.inFeatures, q, toRows(mask, spec));
      data = fromRows(qz.weights, spec);
      quantized = qz;
    }
    out.tensors.set(spec.weight, tf.tensor(data, w.shape));
    if (onLinear) await onLinear(spec, mask, { shape: w.shape, data }, quantized);
    else {
      out.masks.set(spec.weight, mask);
      out.values.set(spec.weight, { shape: w.shape, data });
      if (quantized) out.quantized.set(spec.weight, quantized);
    }
  }
  return out;
}

/** What a method's block-by-block statistics capture: Gram matrices for SparseGPT and GPTQ, squared norms for Wanda. */
export const blockCapture = (recipe: UnstructuredRecipe) => ({
  activationGram: recipe.method === 'sparsegpt' || gptqPass(recipe),
  activationStats: recipe.method === 'wanda',
});

/**
 * Block by block (block-calibration.ts): each block's layers are scored or reconstructed from the
 * statistics of the inputs they see — the pruned blocks' outputs in sequential mode, the dense
 * model's in one-shot mode — and the next block sees the result.
 */
async function pruneBlockByBlock(
  config: ModelConfig,
  host: Map<string, HostTensor>,
  weights: Weights,
  recipe: UnstructuredRecipe,
  calib: CalibrationData,
  fixed: Map<string, Uint8Array> | undefined,
  opts: { signal?: AbortSignal; onProgress?: (f: number) => void },
): Promise<UnstructuredResult> {
  const masks = new Map<string, Uint8Array>();
  const replaced = new Map<string, HostTensor>();
  const quantized = new Map<string, QuantizedLinear>();
  const onBlock = async (stats: BlockStatistics): Promise<Map<string, tf.Tensor>> => {
    const block = await pruneBlock(config, host, recipe, stats, undefined, fixed);
    for (const [k, v] of block.masks) masks.set(k, v);
    if (replacesValues(recipe)) for (const [k, v] of block.values) replaced.set(k, v);
    for (const [k, v] of block.quantized) quantized.set(k, v);
    return block.tensors;
  };
  await calibrateBlockByBlock(config, weights, calib, onBlock, {
    mode: recipe.calibrationMode ?? 'sequential',
    capture: blockCapture(recipe),
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  return { masks, weights: replacesValues(recipe) ? replaced : null, quantized: recipe.quant ? quantized : null };
}

/** Whether the result's values differ from the masked weights (SparseGPT's update, quantization). */
const replacesValues = (recipe: UnstructuredRecipe) => recipe.method === 'sparsegpt' || !!recipe.quant;

/**
 * Prunes by the recipe; `stats` is collectStats(...) of this recipe. The block-by-block path runs
 * the model: on `opts.weights`, its tensors when the caller has them (else uploaded from `host`).
 * Under GPTQ a method that selects from the dense model's statistics chooses its masks first, and
 * the pass then quantizes the kept weights block by block.
 */
export async function pruneUnstructured(
  config: ModelConfig,
  host: Map<string, HostTensor>,
  recipe: UnstructuredRecipe,
  calib: CalibrationData | null,
  stats: PruningStats,
  opts: { signal?: AbortSignal; onProgress?: (f: number) => void; weights?: Weights } = {},
): Promise<UnstructuredResult> {
  if (!(recipe.sparsity >= 0 && recipe.sparsity < 1))
    throw new Error(`sparsity must be in [0, 1), got ${recipe.sparsity}`);
  if (sequential(recipe) || gptqPass(recipe)) {
    if (!calib) throw new Error(`${gptqPass(recipe) ? 'GPTQ' : recipe.method} needs calibration data`);
    const fixed = sequential(recipe) ? undefined : await scoreAndSelect(config, host, recipe, stats);
    const weights = opts.weights ?? new Map([...host].map(([n, t]) => [n, tf.tensor(t.data, t.shape)]));
    try {
      return await pruneBlockByBlock(config, host, weights, recipe, calib, fixed, opts);
    } finally {
      if (!opts.weights) tf.dispose([...weights.values()]);
    }
  }
  const masks = await scoreAndSelect(config, host, recipe, stats);
  if (!recipe.quant) return { masks, weights: null, quantized: null };
  // Round to nearest, layer by layer, on the kept weights.
  const weights = new Map<string, HostTensor>();
  const quantized = new Map<string, QuantizedLinear>();
  for (const spec of prunableLinears(config)) {
    const w = host.get(spec.weight)!;
    const mask = toRows(masks.get(spec.weight)!, spec);
    const qz = rtnQuantize(toRows(w.data, spec), spec.outFeatures, spec.inFeatures, recipe.quant, mask);
    weights.set(spec.weight, { shape: w.shape, data: fromRows(qz.weights, spec) });
    quantized.set(spec.weight, qz);
  }
  return { masks, weights, quantized };
}
