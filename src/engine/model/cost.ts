// Analytic cost model: parameters and FLOPs for one example, per layer and in total, dense and
// under masks. FLOPs count the matrix products (2 per multiply-add): every linear layer, the two
// attention products (QKᵀ and P·V, full T×T as dense kernels compute them, causal or not) and the
// LM head. Element-wise work (norms, softmax, activations) is a few percent and is left out, as
// fvcore and the pruning papers' tables do.
import { keptFeatures } from './kept';
import {
  ffnSize,
  headDim,
  hiddenSize,
  isCausalLm,
  numHeads,
  numLayers,
  sequenceLength,
  type ModelConfig,
} from './config';
import { linearSpecs, paramSpecs, type LinearSpec } from './schema';

/** Structural and per-weight masks as plain data (the cost model runs without TensorFlow.js). */
export interface CostMasks {
  /** 0/1 per weight, row-major in the checkpoint's layout. */
  weights?: Map<string, ArrayLike<number>>;
  /**
   * Instead of a weight's mask, how many of its weights are kept (a model pruned a block at a time
   * keeps counts, not masks). Read only where no structure is removed around the linear.
   */
  keptWeights?: ReadonlyMap<string, number>;
  heads?: number[][];
  neurons?: number[][];
  attention?: boolean[];
  mlp?: boolean[];
  /**
   * Tokens each block processes (token pruning); defaults to the full sequence everywhere. Use
   * model/tokens.ts `tokenCounts` to get exactly what the forward pass keeps.
   */
  tokens?: number[];
}

export interface LinearCost {
  weight: string;
  layer: number;
  role: LinearSpec['role'];
  /** Weights + bias as stored. */
  params: number;
  /** Weights + bias that remain after the masks. */
  nonzero: number;
  denseFlops: number;
  flops: number;
}

export interface BlockCost {
  layer: number;
  params: number;
  nonzero: number;
  attentionFlops: number;
  mlpFlops: number;
  denseFlops: number;
  flops: number;
  tokens: number;
}

export interface CostReport {
  /** Every parameter of the checkpoint (a tied LM head counted once). */
  params: number;
  nonzeroParams: number;
  /** FLOPs of the unpruned model for one example. */
  denseFlops: number;
  /** FLOPs that remain: zeros skipped, removed structures and tokens not computed. */
  flops: number;
  /** Tokens per example at the input. */
  tokens: number;
  blocks: BlockCost[];
  linears: LinearCost[];
}

function linearNonzero(c: ModelConfig, spec: LinearSpec, m: CostMasks): { weights: number; bias: number } {
  const counted = m.keptWeights?.get(spec.weight);
  if (counted !== undefined && !m.heads && !m.neurons && !m.attention && !m.mlp)
    return { weights: counted, bias: spec.bias ? spec.outFeatures : 0 };
  const { inKeep, outKeep } = keptFeatures(c, spec, m);
  const mask = m.weights?.get(spec.weight);
  const n = spec.inFeatures;
  const k = spec.outFeatures;
  let weights = 0;
  let bias = 0;
  const keptIn: number[] = [];
  for (let i = 0; i < n; i++) if (inKeep(i)) keptIn.push(i);
  for (let o = 0; o < k; o++) {
    if (!outKeep(o)) continue;
    if (spec.bias) bias++;
    if (!mask) {
      weights += keptIn.length;
      continue;
    }
    for (const i of keptIn) if (mask[spec.layout === 'in_out' ? i * k + o : o * n + i] !== 0) weights++;
  }
  return { weights, bias };
}

export function costReport(c: ModelConfig, masks: CostMasks = {}): CostReport {
  const seq = sequenceLength(c);
  const layers = numLayers(c);
  const d = hiddenSize(c);
  const heads = numHeads(c);
  const dh = headDim(c);
  const tokensAt = (l: number) => (l < 0 ? seq : Math.min(seq, masks.tokens?.[l] ?? seq));
  // ViT's classifier reads only the CLS token; the LM head reads every position.
  const outTokens = c.kind === 'vit' ? 1 : seq;

  const linears: LinearCost[] = linearSpecs(c).map((spec) => {
    const t =
      spec.role === 'classifier' ? outTokens : spec.layer < 0 ? seq - (c.kind === 'vit' ? 1 : 0) : tokensAt(spec.layer);
    const tDense = spec.role === 'classifier' ? outTokens : spec.layer < 0 ? t : seq;
    const nz = linearNonzero(c, spec, masks);
    const params = spec.inFeatures * spec.outFeatures + (spec.bias ? spec.outFeatures : 0);
    return {
      weight: spec.weight,
      layer: spec.layer,
      role: spec.role,
      params,
      nonzero: nz.weights + nz.bias,
      denseFlops: 2 * spec.inFeatures * spec.outFeatures * tDense,
      flops: 2 * nz.weights * t,
    };
  });

  const blocks: BlockCost[] = [];
  for (let l = 0; l < layers; l++) {
    const t = tokensAt(l);
    const own = linears.filter((x) => x.layer === l);
    const attnOn = masks.attention?.[l] !== false;
    const keptHeads = attnOn
      ? Array.from({ length: heads }, (_, h) => masks.heads?.[l]?.[h] ?? 1).filter((v) => v !== 0).length
      : 0;
    const attnProducts = 2 * 2 * t * t * dh * keptHeads; // QKᵀ and P·V
    const sum = (xs: LinearCost[], f: (x: LinearCost) => number) => xs.reduce((a, x) => a + f(x), 0);
    const isAttn = (x: LinearCost) => x.role !== 'ffn_gate' && x.role !== 'ffn_in' && x.role !== 'ffn_out';
    blocks.push({
      layer: l,
      tokens: t,
      params: sum(own, (x) => x.params),
      nonzero: sum(own, (x) => x.nonzero),
      attentionFlops: sum(own.filter(isAttn), (x) => x.flops) + attnProducts,
      mlpFlops: sum(
        own.filter((x) => !isAttn(x)),
        (x) => x.flops,
      ),
      denseFlops: sum(own, (x) => x.denseFlops) + 2 * 2 * seq * seq * dh * heads,
      flops: sum(own, (x) => x.flops) + attnProducts,
    });
  }

  const params = paramSpecs(c).reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  const linearParams = linears.reduce((a, x) => a + x.params, 0);
  const linearNonzeroCount = linears.reduce((a, x) => a + x.nonzero, 0);
  // Embeddings, layer norms and (removed blocks aside) everything that is not a linear layer is kept.
  const otherParams = params - linearParams;
  // The LM head reads every position that survives the last block (token pruning returns logits
  // for those only; see model/tokens.ts).
  const lmHead = (t: number) => (isCausalLm(c) ? 2 * d * c.vocabSize * t : 0);
  const outside = linears.filter((x) => x.layer < 0);
  const outsideDense = outside.reduce((a, x) => a + x.denseFlops, 0);
  const outsideFlops = outside.reduce((a, x) => a + x.flops, 0);
  return {
    params,
    nonzeroParams: otherParams + linearNonzeroCount,
    denseFlops: blocks.reduce((a, b) => a + b.denseFlops, 0) + outsideDense + lmHead(seq),
    flops: blocks.reduce((a, b) => a + b.flops, 0) + outsideFlops + lmHead(tokensAt(layers - 1)),
    tokens: seq,
    blocks,
    linears,
  };
}

/** The FFN width and head count of a block after structural masks, for display. */
export function keptStructure(c: ModelConfig, m: CostMasks, layer: number): { heads: number; neurons: number } {
  const attnOn = m.attention?.[layer] !== false;
  const mlpOn = m.mlp?.[layer] !== false;
  const count = (xs: number[] | undefined, n: number) => (xs ? xs.filter((v) => v !== 0).length : n);
  return {
    heads: attnOn ? count(m.heads?.[layer], numHeads(c)) : 0,
    neurons: mlpOn ? count(m.neurons?.[layer], ffnSize(c)) : 0,
  };
}
