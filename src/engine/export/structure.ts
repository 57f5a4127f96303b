// What structured pruning does to a checkpoint's tensors when it is exported, in the vocabulary of
// ModelMasks (heads, neurons, attention and FFN sublayers; a block is removed when both of its
// sublayers are): which blocks go and how the rest are renumbered, and which weights and biases
// become zero so that the exported model computes exactly what the masked forward pass computes.
import { headDim, hiddenSize, numHeads, numKvHeads, numLayers, type ModelConfig } from '../model/config';
import { GPT2_PREFIX, LLAMA_PREFIX, type LinearSpec } from '../model/schema';

/** Structural masks, as ModelMasks spells them (no per-weight masks). */
export interface StructuralPruning {
  /** [layer][head] 0/1: a removed head contributes nothing to its block's attention output. */
  heads?: number[][];
  /** [layer][neuron] 0/1 over the FFN's intermediate units. */
  neurons?: number[][];
  /** Per block: false removes the attention sublayer. */
  attention?: boolean[];
  /** Per block: false removes the FFN sublayer. Both false: the block is removed. */
  mlp?: boolean[];
}

export function blockRemoved(s: StructuralPruning | undefined, layer: number): boolean {
  return s?.attention?.[layer] === false && s?.mlp?.[layer] === false;
}

/** Source block → its index in the exported model, or null when it is removed. */
export function blockMap(config: ModelConfig, s: StructuralPruning | undefined): (number | null)[] {
  let next = 0;
  return Array.from({ length: numLayers(config) }, (_, l) => (blockRemoved(s, l) ? null : next++));
}

/** The prefix every tensor of block `layer` starts with (ends with a dot). */
export function blockPrefix(config: ModelConfig, layer: number): string {
  if (config.kind === 'gpt2') return `${GPT2_PREFIX}h.${layer}.`;
  return config.kind === 'llama' ? `${LLAMA_PREFIX}layers.${layer}.` : `vit.encoder.layer.${layer}.`;
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
  const l = spec.layer;
  const d = hiddenSize(config);
  const dh = headDim(config);
  // Grouped-query attention: a key/value head stays while any query head of its group does.
  const group = numHeads(config) / numKvHeads(config);
  const attnOn = s.attention?.[l] !== false;
  const mlpOn = s.mlp?.[l] !== false;
  const headOn = (h: number) => (s.heads?.[l]?.[h] ?? 1) !== 0;
  const kvHeadOn = (g: number) => Array.from({ length: group }, (_, j) => g * group + j).some(headOn);
  const neuronOn = (j: number) => (s.neurons?.[l]?.[j] ?? 1) !== 0;
  const all = () => true;
  const none = () => false;
  let inKeep: (i: number) => boolean = all;
  let outKeep: (o: number) => boolean = all;
  let touched = false;
  switch (spec.role) {
    case 'qkv':
    case 'q':
    case 'k':
    case 'v': {
      const head = spec.role === 'qkv' ? (o: number) => Math.floor((o % d) / dh) : (o: number) => Math.floor(o / dh);
      const on = spec.role === 'k' || spec.role === 'v' ? kvHeadOn : headOn;
      if (!attnOn) {
        inKeep = none;
        outKeep = none;
      } else outKeep = (o) => on(head(o));
      touched = !attnOn || !!s.heads?.[l]?.some((v) => v === 0);
      break;
    }
    case 'attn_out':
      if (!attnOn) {
        inKeep = none;
        outKeep = none;
      } else inKeep = (i) => headOn(Math.floor(i / dh));
      touched = !attnOn || !!s.heads?.[l]?.some((v) => v === 0);
      break;
    case 'ffn_gate':
    case 'ffn_in':
      if (!mlpOn) {
        inKeep = none;
        outKeep = none;
      } else outKeep = neuronOn;
      touched = !mlpOn || !!s.neurons?.[l]?.some((v) => v === 0);
      break;
    case 'ffn_out':
      if (!mlpOn) {
        inKeep = none;
        outKeep = none;
      } else inKeep = neuronOn;
      touched = !mlpOn || !!s.neurons?.[l]?.some((v) => v === 0);
      break;
    default:
      break;
  }
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
