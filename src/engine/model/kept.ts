// Which input and output features of a block's linear layer survive structural removal: one
// reading of heads, FFN neurons and sublayers shared by the cost model, the zeroing of an export
// and the physical cut, so the three never disagree.
// - A removed query head takes its head_dim outputs of q (GPT-2's fused c_attn: of q, k and v) and
//   its inputs of the attention output projection.
// - Grouped-query attention: a key/value head is kept while any query head of its group is; it
//   goes with its whole group. Query heads within a group may go alone.
// - A removed FFN neuron takes its output of the FFN input projection (and of SwiGLU's gate) and its
//   input of the FFN output projection.
// - A removed sublayer takes every input and output of its linear layers.
import { headDim, hiddenSize, numHeads, numKvHeads, type ModelConfig } from './config';
import type { LinearSpec } from './schema';

export interface StructureMasks {
  /** [layer][query head] 0/1. */
  heads?: number[][];
  /** [layer][neuron] 0/1 over the FFN's intermediate units. */
  neurons?: number[][];
  /** Per block: false removes the attention sublayer. */
  attention?: boolean[];
  /** Per block: false removes the FFN sublayer. */
  mlp?: boolean[];
}

export interface KeptFeatures {
  inKeep: (i: number) => boolean;
  outKeep: (o: number) => boolean;
  /** Whether any structural mask removes something of this linear. */
  touched: boolean;
}

const all = () => true;
const none = () => false;

export function keptFeatures(c: ModelConfig, spec: LinearSpec, m: StructureMasks): KeptFeatures {
  if (spec.layer < 0) return { inKeep: all, outKeep: all, touched: false };
  const l = spec.layer;
  const d = hiddenSize(c);
  const dh = headDim(c);
  const head = (h: number) => (m.heads?.[l]?.[h] ?? 1) !== 0;
  const group = numHeads(c) / numKvHeads(c);
  const kvHead = (g: number) => Array.from({ length: group }, (_, j) => head(g * group + j)).some(Boolean);
  const neuron = (j: number) => (m.neurons?.[l]?.[j] ?? 1) !== 0;
  const attnOn = m.attention?.[l] !== false;
  const mlpOn = m.mlp?.[l] !== false;
  const headsTouched = !attnOn || !!m.heads?.[l]?.some((v) => v === 0);
  const neuronsTouched = !mlpOn || !!m.neurons?.[l]?.some((v) => v === 0);
  switch (spec.role) {
    case 'qkv': // fused [q | k | v], each split into heads
      return {
        inKeep: attnOn ? all : none,
        outKeep: attnOn ? (o) => head(Math.floor((o % d) / dh)) : none,
        touched: headsTouched,
      };
    case 'q':
      return {
        inKeep: attnOn ? all : none,
        outKeep: attnOn ? (o) => head(Math.floor(o / dh)) : none,
        touched: headsTouched,
      };
    case 'k':
    case 'v':
      return {
        inKeep: attnOn ? all : none,
        outKeep: attnOn ? (o) => kvHead(Math.floor(o / dh)) : none,
        touched: headsTouched,
      };
    case 'attn_out':
      return {
        inKeep: attnOn ? (i) => head(Math.floor(i / dh)) : none,
        outKeep: attnOn ? all : none,
        touched: headsTouched,
      };
    case 'ffn_gate':
    case 'ffn_in':
      return { inKeep: mlpOn ? all : none, outKeep: mlpOn ? neuron : none, touched: neuronsTouched };
    case 'ffn_out':
      return { inKeep: mlpOn ? neuron : none, outKeep: mlpOn ? all : none, touched: neuronsTouched };
    default:
      return { inKeep: all, outKeep: all, touched: false };
  }
}
