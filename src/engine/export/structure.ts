// What structured pruning does to a checkpoint's tensors when it is exported, in the vocabulary of
// ModelMasks (heads, neurons, attention and FFN sublayers; a block is removed when both of its
// sublayers are): which blocks go and how the rest are renumbered, and which weights and biases
// become zero so that the exported model computes exactly what the masked forward pass computes.
import { numLayers, type ModelConfig } from '../model/config';
import { keptFeatures, type StructureMasks } from '../model/kept';
import { blockPrefix, type LinearSpec } from '../model/schema';

/** Structural masks, as ModelMasks spells them (no per-weight masks). */
export type StructuralPruning = StructureMasks;

export function blockRemoved(s: StructuralPruning | undefined, layer: number): boolean {
  return s?.attention?.[layer] === false && s?.mlp?.[layer] === false;
}

/** Source block → its index in the exported model, or null when it is removed. */
export function blockMap(config: ModelConfig, s: StructuralPruning | undefined): (number | null)[] {
  let next = 0;
  return Array.from({ length: numLayers(config) }, (_, l) => (blockRemoved(s, l) ? null : next++));
}

const BLOCK_NAME: Record<ModelConfig['kind'], RegExp> = {
  gpt2: /^transformer\.h\.(\d+)\.(.+)$/,
  llama: /^model\.layers\.(\d+)\.(.+)$/,
  vit: /^vit\.encoder\.layer\.(\d+)\.(.+)$/,
};

/** A tensor's block and the rest of its name, or null for tensors outside the blocks. */
export function splitBlockName(config: ModelConfig, name: string): { layer: number; rest: string } | null {
  const m = BLOCK_NAME[config.kind].exec(name);
  return m ? { layer: Number(m[1]), rest: m[2] } : null;
}

/**
 * Renames a tensor for the exported model: block tensors move to their new block index; tensors of
 * removed blocks map to null; everything else keeps its name.
 */
export function renameTensor(config: ModelConfig, name: string, map: (number | null)[]): string | null {
  const b = splitBlockName(config, name);
  if (!b) return name;
  const to = map[b.layer];
  return to === null || to === undefined ? null : `${blockPrefix(config, to)}${b.rest}`;
}

/**
 * Which entries of a linear layer's weight and bias survive the structural masks (null: all of
 * them). Follows the cost model's reading: a removed head removes its q/k/v outputs and its
 * attention-output inputs; a removed neuron its FFN-in output and FFN-out input; a removed
 * sublayer every weight and bias of its linear layers.
 */
export function structuralKeep(
  config: ModelConfig,
  spec: LinearSpec,
  s: StructuralPruning | undefined,
): { weight: Uint8Array | null; bias: Uint8Array | null } {
  if (!s || spec.layer < 0) return { weight: null, bias: null };
  const { inKeep, outKeep, touched } = keptFeatures(config, spec, s);
  if (!touched) return { weight: null, bias: null };
  const n = spec.inFeatures;
  const k = spec.outFeatures;
  const weight = new Uint8Array(n * k);
  for (let o = 0; o < k; o++) {
    if (!outKeep(o)) continue;
    for (let i = 0; i < n; i++) if (inKeep(i)) weight[spec.layout === 'in_out' ? i * k + o : o * n + i] = 1;
  }
  const bias = spec.bias ? Uint8Array.from({ length: k }, (_, o) => (outKeep(o) ? 1 : 0)) : null;
  return { weight, bias };
}
