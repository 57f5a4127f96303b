// Unstructured and N:M pruning of every prunable linear layer by one method: scores → selection
// at each block's sparsity (or one global threshold) → masks; SparseGPT also returns new weights.
import * as tf from '@tensorflow/tfjs';
import { numLayers, type ModelConfig } from '../model/config';
import type { HostTensor } from '../model/checkpoint';
import { linearSpecs, type LinearSpec } from '../model/schema';
import type { Weights } from '../model/types';
import { collectActivationStats, collectGradients, type CalibrationData } from './calibration';
import { fromRows, toRows } from './layout';
import { magnitudeScores } from './magnitude';
import { nmMask } from './nm';
import { randomScores } from './random';
import { globalTopK, keepCount, rowTopKMask, topKMask } from './select';
import { sparseGpt } from './sparsegpt';
import { taylorScores } from './taylor';
import { wandaScores } from './wanda';

export type UnstructuredMethod = 'magnitude' | 'random' | 'wanda' | 'sparsegpt' | 'taylor';
/** Which weights compete: within a layer, within an output row, or all layers at once. */
export type Scope = 'layer' | 'row' | 'global';

export interface UnstructuredRecipe {
  method: UnstructuredMethod;
  /** Target fraction of prunable weights removed. */
  sparsity: number;
  scope?: Scope;
  /** Semi-structured N:M along the input dimension; replaces scope. */
  nm?: { n: number; m: number };
  /** Sparsity of each block (from a layer-wise allocation); default: `sparsity` everywhere. */
  blockSparsity?: number[];
  seed?: number;
}

export interface UnstructuredResult {
  /** 0/1 per weight in the checkpoint's layout, for every prunable linear layer. */
  masks: Map<string, Uint8Array>;
  /** Replacement values (SparseGPT's reconstruction), or null when only masking. */
  weights: Map<string, HostTensor> | null;
}

/** Statistics reused across the points of a sweep (they depend on the dense model only). */
export interface PruningStats {
  sqSum?: Map<string, Float32Array>;
  grads?: Map<string, Float32Array>;
}

export const DEFAULT_SCOPE: Record<UnstructuredMethod, Scope> = {
  magnitude: 'layer',
  random: 'layer',
  wanda: 'row',
  sparsegpt: 'layer',
  taylor: 'layer',
};

export function prunableLinears(config: ModelConfig): LinearSpec[] {
  return linearSpecs(config).filter((l) => l.prunable);
}

/** What a method needs measured on the calibration data before it can score. */
export async function collectStats(
  config: ModelConfig,
  weights: Weights,
  method: UnstructuredMethod,
  calib: CalibrationData | null,
  opts: { signal?: AbortSignal; onProgress?: (f: number) => void } = {},
): Promise<PruningStats> {
  if (method !== 'wanda' && method !== 'taylor') return {};
  if (!calib) throw new Error(`${method} needs calibration data`);
  if (method === 'wanda') return { sqSum: (await collectActivationStats(config, weights, calib, opts)).sqSum };
  const names = prunableLinears(config).map((l) => l.weight);
  return { grads: await collectGradients(config, weights, calib, names, opts) };
}

function scoresFor(spec: LinearSpec, w: Float32Array, recipe: UnstructuredRecipe, stats: PruningStats, index: number): Float32Array {
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
    case 'taylor': {
      const g = stats.grads?.get(spec.weight);
      if (!g) throw new Error(`taylor: no gradient for ${spec.weight}`);
      return taylorScores(rows, toRows(g, spec));
    }
    case 'sparsegpt':
      throw new Error('sparsegpt selects its own mask');
  }
}

function blockSparsity(recipe: UnstructuredRecipe, layer: number): number {
  return recipe.blockSparsity?.[layer] ?? recipe.sparsity;
}

/** Masks for a scoring method (everything but SparseGPT). */
export function scoreAndSelect(config: ModelConfig, host: Map<string, HostTensor>, recipe: UnstructuredRecipe, stats: PruningStats): Map<string, Uint8Array> {
  const specs = prunableLinears(config);
  const rowScores = specs.map((spec, i) => scoresFor(spec, host.get(spec.weight)!.data, recipe, stats, i));
  const scope = recipe.nm ? null : recipe.scope ?? DEFAULT_SCOPE[recipe.method];
  let rowMasks: Uint8Array[];
  if (scope === 'global') {
    const total = rowScores.reduce((a, s) => a + s.length, 0);
    rowMasks = globalTopK(rowScores, keepCount(total, recipe.sparsity));
  } else {
    rowMasks = specs.map((spec, i) => {
      const s = rowScores[i];
      if (recipe.nm) return nmMask(s, spec.outFeatures, spec.inFeatures, recipe.nm.n, recipe.nm.m);
      const sp = blockSparsity(recipe, spec.layer);
      if (scope === 'row') return rowTopKMask(s, spec.outFeatures, spec.inFeatures, keepCount(spec.inFeatures, sp));
      return topKMask(s, keepCount(s.length, sp));
    });
  }
  return new Map(specs.map((spec, i) => [spec.weight, fromRows(rowMasks[i], spec)]));
}

/**
 * SparseGPT block by block: each block's layers are reconstructed from the inputs they see once
 * the blocks before them are pruned, as the authors' sequential procedure does.
 */
async function sparseGptModel(
  config: ModelConfig,
  host: Map<string, HostTensor>,
  recipe: UnstructuredRecipe,
  calib: CalibrationData,
  opts: { signal?: AbortSignal; onProgress?: (f: number) => void },
): Promise<UnstructuredResult> {
  const specs = prunableLinears(config);
  const layers = numLayers(config);
  const current: Weights = new Map([...host].map(([n, t]) => [n, tf.tensor(t.data, t.shape)]));
  const masks = new Map<string, Uint8Array>();
  const weights = new Map<string, HostTensor>();
  try {
    for (let l = 0; l < layers; l++) {
      const mine = specs.filter((s) => s.layer === l);
      const names = new Set(mine.map((s) => s.weight));
      const stats = await collectActivationStats(config, current, calib, {
        gramFor: (n) => names.has(n),
        signal: opts.signal,
        onProgress: (f) => opts.onProgress?.((l + f * 0.5) / layers),
      });
      for (const spec of mine) {
        const w = host.get(spec.weight)!;
        const r = sparseGpt(toRows(w.data, spec), spec.outFeatures, spec.inFeatures, stats.gram.get(spec.weight)!, {
          sparsity: blockSparsity(recipe, l),
          nm: recipe.nm,
        });
        const data = fromRows(r.weights, spec);
        masks.set(spec.weight, fromRows(r.mask, spec));
        weights.set(spec.weight, { shape: w.shape, data });
        current.get(spec.weight)!.dispose();
        current.set(spec.weight, tf.tensor(data, w.shape));
      }
      opts.onProgress?.((l + 1) / layers);
    }
  } finally {
    tf.dispose([...current.values()]);
  }
  return { masks, weights };
}

export async function pruneUnstructured(
  config: ModelConfig,
  host: Map<string, HostTensor>,
  recipe: UnstructuredRecipe,
  calib: CalibrationData | null,
  stats: PruningStats,
  opts: { signal?: AbortSignal; onProgress?: (f: number) => void } = {},
): Promise<UnstructuredResult> {
  if (!(recipe.sparsity >= 0 && recipe.sparsity < 1)) throw new Error(`sparsity must be in [0, 1), got ${recipe.sparsity}`);
  if (recipe.method === 'sparsegpt') {
    if (!calib) throw new Error('sparsegpt needs calibration data');
    return sparseGptModel(config, host, recipe, calib, opts);
  }
  return { masks: scoreAndSelect(config, host, recipe, stats), weights: null };
}
