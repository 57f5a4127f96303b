// Physically smaller checkpoints from structural masks: the weights a masked model really uses,
// with the removed rows and columns cut out, so the result computes the same function with fewer
// parameters and FLOPs (and is what an export writes). The forward pass reads layer widths from the
// stored tensors, so it runs these checkpoints directly.
//
// What a removed unit takes is model/kept.ts's one reading; in the stored layouts:
// - A removed head h (head width dh) loses its dh query, key and value output features
//   and its dh input rows of the attention output projection. GPT-2 fuses q, k, v into one Conv1D
//   c_attn stored [in = d, out = 3d] as [q | k | v], so head h's columns are h·dh + e, d + h·dh + e
//   and 2d + h·dh + e; its c_proj is [in = d, out = d], rows h·dh + e. ViT keeps separate nn.Linear
//   query/key/value stored [out, in] (rows h·dh + e) and attention.output.dense [out, in]
//   (columns h·dh + e). This is what `transformers`' prune_heads does (GPT2Attention: c_attn along
//   dim 1, c_proj along dim 0), so `prunedHeads` can go into config.json's "pruned_heads".
// - A removed FFN neuron j loses its output feature of the FFN input projection (GPT-2 c_fc
//   [d, inner] column j; ViT intermediate.dense [inner, d] row j, and its bias entry) and its input
//   feature of the FFN output projection (GPT-2 mlp.c_proj [inner, d] row j; ViT output.dense
//   [d, inner] column j).
// - A removed sublayer (attention or FFN) keeps zero heads / neurons and a zeroed output bias: it
//   then adds exactly 0 to the residual stream, as skipping it does. A removed block (both
//   sublayers) can instead be dropped and the later blocks renumbered: `dropBlocks`.
import { ffnSize, numHeads, numLayers, parseConfig, type ModelConfig } from '../../model/config';
import type { HostTensor } from '../../model/checkpoint';
import { keptFeatures } from '../../model/kept';
import { blockPrefix, linearSpecs, type LinearSpec } from '../../model/schema';
import type { ModelMasks } from '../../model/types';

export type StructuralMasks = Pick<ModelMasks, 'heads' | 'neurons' | 'attention' | 'mlp'>;

export interface PhysicalModel {
  weights: Map<string, HostTensor>;
  /** Heads and FFN neurons each block keeps. */
  heads: number[];
  neurons: number[];
  /** Removed head indices by block, as `transformers`' config.pruned_heads. */
  prunedHeads: Record<string, number[]>;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The kept heads and neurons of every block (none for a removed sublayer). */
export function keptUnits(config: ModelConfig, masks: StructuralMasks): { heads: number[][]; neurons: number[][] } {
  const layers = numLayers(config);
  return {
    heads: range(layers).map((l) =>
      masks.attention?.[l] === false ? [] : range(numHeads(config)).filter((h) => (masks.heads?.[l]?.[h] ?? 1) !== 0),
    ),
    neurons: range(layers).map((l) =>
      masks.mlp?.[l] === false ? [] : range(ffnSize(config)).filter((j) => (masks.neurons?.[l]?.[j] ?? 1) !== 0),
    ),
  };
}

/** The input and output features of a block linear that survive the structural masks. */
export function keptIndices(
  config: ModelConfig,
  spec: LinearSpec,
  masks: StructuralMasks,
): { inIdx: number[]; outIdx: number[] } {
  const { inKeep, outKeep } = keptFeatures(config, spec, masks);
  // The side facing the residual stream keeps its width (a removed sublayer's output is zero rows
  // and a zero bias there, not a narrower stream).
  const toStream = spec.role === 'attn_out' || spec.role === 'ffn_out';
  return {
    inIdx: toStream ? range(spec.inFeatures).filter(inKeep) : range(spec.inFeatures),
    outIdx: toStream ? range(spec.outFeatures) : range(spec.outFeatures).filter(outKeep),
  };
}

/** The sub-matrix of kept inputs × kept outputs, in the weight's own layout. */
function sliceLinear(w: HostTensor, spec: LinearSpec, inIdx: number[], outIdx: number[]): HostTensor {
  const { inFeatures: n, outFeatures: m } = spec;
  const data = new Float32Array(inIdx.length * outIdx.length);
  let k = 0;
  if (spec.layout === 'in_out') {
    for (const i of inIdx) for (const o of outIdx) data[k++] = w.data[i * m + o];
    return { shape: [inIdx.length, outIdx.length], data };
  }
  for (const o of outIdx) for (const i of inIdx) data[k++] = w.data[o * n + i];
  return { shape: [outIdx.length, inIdx.length], data };
}

/** Cuts removed heads, neurons and sublayers out of the checkpoint. */
export function physicallyPrune(
  config: ModelConfig,
  host: Map<string, HostTensor>,
  masks: StructuralMasks,
): PhysicalModel {
  const kept = keptUnits(config, masks);
  const weights = new Map(host); // tensors outside the blocks' linears are shared unchanged
  for (const spec of linearSpecs(config)) {
    if (spec.layer < 0) continue;
    const l = spec.layer;
    const { inIdx, outIdx } = keptIndices(config, spec, masks);
    weights.set(spec.weight, sliceLinear(host.get(spec.weight)!, spec, inIdx, outIdx));
    if (!spec.bias) continue;
    const b = host.get(spec.bias)!;
    const removedSublayer =
      (spec.role === 'attn_out' && masks.attention?.[l] === false) ||
      (spec.role === 'ffn_out' && masks.mlp?.[l] === false);
    weights.set(spec.bias, {
      shape: [outIdx.length],
      data: removedSublayer ? new Float32Array(outIdx.length) : Float32Array.from(outIdx, (o) => b.data[o]),
    });
  }
  const prunedHeads: Record<string, number[]> = {};
  kept.heads.forEach((hs, l) => {
    const removed = range(numHeads(config)).filter((h) => !hs.includes(h));
    if (removed.length) prunedHeads[String(l)] = removed;
  });
  return { weights, heads: kept.heads.map((h) => h.length), neurons: kept.neurons.map((n) => n.length), prunedHeads };
}

/**
 * Drops whole blocks and renumbers the rest: a checkpoint with fewer layers (config.json's n_layer
 * or num_hidden_layers updated) computing what the masked model computes.
 */
export function dropBlocks(
  config: ModelConfig,
  host: Map<string, HostTensor>,
  removed: number[],
): { config: ModelConfig; weights: Map<string, HostTensor> } {
  const layers = numLayers(config);
  const gone = new Set(removed);
  const keep = range(layers).filter((l) => !gone.has(l));
  const weights = new Map<string, HostTensor>();
  for (const [name, t] of host) {
    const l = range(layers).find((i) => name.startsWith(blockPrefix(config, i)));
    if (l === undefined) weights.set(name, t);
    else if (!gone.has(l))
      weights.set(blockPrefix(config, keep.indexOf(l)) + name.slice(blockPrefix(config, l).length), t);
  }
  const field = config.kind === 'gpt2' ? 'n_layer' : 'num_hidden_layers';
  return { config: parseConfig({ ...config.raw, [field]: keep.length }), weights };
}
