// What the model map colours its cells by, beyond FLOPs: how important each attention head and
// each FFN is (scores on calibration data), and how much of each head, FFN and block a pruned
// configuration removed. A head owns its query, key and value output features and the matching
// input features of the attention output projection; an FFN owns both of its linears. Which stored
// entries those are depends on the layout (GPT-2's fused Conv1D c_attn [in, out] as [q | k | v],
// ViT's separate nn.Linear query/key/value [out, in]); model/kept.ts knows it (a key/value head
// shared by a group counts towards each of its query heads), and the
// same rule serves here, so the map and an exported checkpoint agree on what a head is.
// Pruned shares count weights only (biases are a rounding error at these sizes and never pruned
// unstructured), so unstructured masks and removed structures read on one scale.
import { ffnSize, numHeads, numLayers, type ModelConfig } from '../model/config';
import type { LinearSpec } from '../model/schema';
import type { CalibrationSpec } from '../pruning/calibration';
import { headScores } from '../pruning/structured/heads';
import { neuronScores } from '../pruning/structured/neurons';
import { keptIndices, keptUnits, type StructuralMasks } from '../pruning/structured/physical';
import { prunableLinears } from '../pruning/unstructured';
import type { Pruner, RunOptions } from './pruner';

/** Per block, 0..1: the share of each part's weights that are zero or removed. */
export interface PrunedShares {
  /** [block][head]. */
  heads: number[][];
  /** [block]: the FFN's two linears together. */
  ffn: number[];
  /** [block]: every linear weight of the block. */
  blocks: number[];
}

export interface MapImportance {
  /** [block][head]: mean ‖head output‖₂ per calibration token (Michel et al.'s cheap proxy). */
  heads: number[][];
  /** [block]: the sum of the FFN's neuron scores (‖activation‖₂ × ‖output column‖₂). */
  ffn: number[];
  /** What calibration data the scores were computed on, in words. */
  calibration: string;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Flat indices, in the weight's stored layout, of the entries with input in inIdx and output in outIdx. */
export function entryIndices(spec: LinearSpec, inIdx: number[], outIdx: number[]): number[] {
  const out: number[] = [];
  for (const i of inIdx)
    for (const o of outIdx) out.push(spec.layout === 'in_out' ? i * spec.outFeatures + o : o * spec.inFeatures + i);
  return out;
}

/** The entries of block `layer`'s linears that the given heads and neurons own, by weight name. */
export function unitEntries(
  config: ModelConfig,
  layer: number,
  heads: number[],
  neurons: number[],
): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const only = (units: number[], n: number) => Array.from({ length: n }, (_, i) => (units.includes(i) ? 1 : 0));
  const masks: StructuralMasks = {
    heads: Array.from({ length: layer + 1 }, () => only(heads, numHeads(config))),
    neurons: Array.from({ length: layer + 1 }, () => only(neurons, ffnSize(config))),
  };
  for (const spec of prunableLinears(config).filter((s) => s.layer === layer)) {
    const { inIdx, outIdx } = keptIndices(config, spec, masks);
    const idx = entryIndices(spec, inIdx, outIdx);
    if (idx.length) out.set(spec.weight, idx);
  }
  return out;
}

function zeroShare(masks: Map<string, Uint8Array>, entries: Map<string, number[]>): number {
  let zeros = 0;
  let total = 0;
  for (const [name, idx] of entries) {
    const m = masks.get(name);
    if (!m) throw new Error(`no mask for "${name}"`);
    for (const i of idx) zeros += m[i] === 0 ? 1 : 0;
    total += idx.length;
  }
  return total ? zeros / total : 0;
}

/** Pruned shares from per-weight 0/1 masks (unstructured and N:M pruning), in the checkpoint's layout. */
export function prunedSharesFromMasks(config: ModelConfig, masks: Map<string, Uint8Array>): PrunedShares {
  const heads = range(numHeads(config));
  const neurons = range(ffnSize(config));
  const out: PrunedShares = { heads: [], ffn: [], blocks: [] };
  for (let l = 0; l < numLayers(config); l++) {
    out.heads.push(heads.map((h) => zeroShare(masks, unitEntries(config, l, [h], []))));
    out.ffn.push(zeroShare(masks, unitEntries(config, l, [], neurons)));
    out.blocks.push(zeroShare(masks, unitEntries(config, l, heads, neurons)));
  }
  return out;
}

/**
 * Pruned shares of removed structures (heads, neurons, sublayers, blocks): the per-weight masks they
 * amount to, read as above. A removed head is 100% pruned; an FFN by the share of its neurons gone.
 */
export function prunedSharesFromStructure(config: ModelConfig, structure: StructuralMasks): PrunedShares {
  const masks = new Map(
    prunableLinears(config).map((s) => [s.weight, new Uint8Array(s.inFeatures * s.outFeatures).fill(1)]),
  );
  const kept = keptUnits(config, structure);
  for (let l = 0; l < numLayers(config); l++) {
    const removedHeads = range(numHeads(config)).filter((h) => !kept.heads[l].includes(h));
    const removedNeurons = range(ffnSize(config)).filter((j) => !kept.neurons[l].includes(j));
    for (const [name, idx] of unitEntries(config, l, removedHeads, removedNeurons)) {
      const m = masks.get(name)!;
      for (const i of idx) m[i] = 0;
    }
  }
  return prunedSharesFromMasks(config, masks);
}

/**
 * Head and FFN importance on the pruner's (cached) calibration data: one forward pass for the head
 * output norms, one for the neuron activations.
 */
export async function mapImportance(
  pruner: Pruner,
  calibration: CalibrationSpec | undefined,
  opts: RunOptions = {},
): Promise<MapImportance> {
  const { config, weights } = pruner.session;
  const calib = await pruner.calibration(pruner.calibSpec({ calibration }));
  const heads = await headScores(config, weights, calib, 'norm', {
    signal: opts.signal,
    onProgress: (f) => opts.onProgress?.('head scores', f / 2),
  });
  const neurons = await neuronScores(config, weights, calib, 'activation', {
    signal: opts.signal,
    onProgress: (f) => opts.onProgress?.('FFN neuron scores', 0.5 + f / 2),
  });
  return { heads, ffn: neurons.map((row) => row.reduce((a, v) => a + v, 0)), calibration: calib.description };
}
