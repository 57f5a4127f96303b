// Dynamic token pruning at inference: before a block, drop the tokens that scored lowest by the
// attention of the block before it, so every later block works on fewer tokens. Three scores:
//
// - 'cls' (ViT): the attention the CLS query pays each patch, averaged over heads — EViT's ranking
//   (Liang et al. 2022): the classifier reads only CLS, so patches CLS ignores matter least. CLS
//   itself is always kept.
// - 'last-query' (causal LM): the attention the last position pays each token, averaged over heads
//   — LazyLLM's score (Fu et al. 2024): the next-token prediction is read at the last position, so
//   the tokens it attends to are the ones it needs. The last position is always kept.
// - 'column-sum' (causal LM): the attention each token received, summed over every query (only
//   queries at or after it can see it), averaged over heads — H2O's heavy-hitter score (Zhang et al.
//   2023). Sums favour early tokens (more queries see them; attention sinks). The last position is
//   always kept.
//
// The count rule (shared by the forward pass and the cost model, so both agree to the token):
// a block with ratio r keeps the protected token plus round(r · (n − 1)) of the n − 1 others that
// entered the block before it. Ratios therefore compound: r at every block from layer f on leaves
// about r^(l − f + 1) of the tokens at block l. Block 0 is never pruned (nothing has attended yet),
// nor is a block whose predecessor computed no attention (sublayer removed or every head masked).
//
// What a pruned causal LM returns: the logits of the positions that survive the last block, in
// order, with `tokenPositions` naming them; the last position is always the final row. Only that
// last row is a clean next-token prediction — the choice of which earlier tokens survive used
// attention from later queries, so an earlier kept position's output has seen the future through
// the selection. Evaluate a token-pruned LM on the last position of each window
// (eval/last-position.ts), and its dense baseline the same way.
import * as tf from '@tensorflow/tfjs';
import { numLayers, sequenceLength, type ModelConfig } from './config';
import type { ModelMasks } from './types';

/** How tokens are scored (and so which one is protected): see the top of this file. */
export type TokenScoring = 'cls' | 'last-query' | 'column-sum';

/**
 * The scoring a forward pass uses when none is given: the catalogue's default token score for the
 * family (its first entry; a test holds the two together).
 */
export const defaultTokenScoring = (c: ModelConfig): TokenScoring => (c.kind === 'vit' ? 'cls' : 'last-query');

/** Index of the token never dropped among n: CLS (0) or the last position (n − 1). */
export const protectedIndex = (kind: TokenScoring, n: number): number => (kind === 'cls' ? 0 : n - 1);

function checkRatio(r: number, layer: number): void {
  if (!(r >= 0 && r <= 1)) throw new Error(`token keep ratio of block ${layer} must be in [0, 1], got ${r}`);
}

/** Tokens a block keeps out of the n that entered the block before it, at keep ratio r. */
export function keptTokenCount(n: number, ratio: number): number {
  checkRatio(ratio, -1);
  return n <= 1 ? n : 1 + Math.round(ratio * (n - 1));
}

/** Whether `layer` computed attention probabilities a later block can rank tokens by. */
export function attentionComputed(masks: Pick<ModelMasks, 'attention' | 'heads'> | undefined, layer: number): boolean {
  if (layer < 0 || masks?.attention?.[layer] === false) return false;
  const h = masks?.heads?.[layer];
  return !h || h.some((v) => v !== 0);
}

/**
 * Tokens each block processes under per-block keep ratios, exactly as the forward pass prunes:
 * pass the result as `CostMasks.tokens`. `seq` defaults to the model's full sequence.
 */
export function tokenCounts(
  config: ModelConfig,
  keep: readonly number[] | undefined,
  opts: { masks?: Pick<ModelMasks, 'attention' | 'heads'>; seq?: number } = {},
): number[] {
  const layers = numLayers(config);
  let n = opts.seq ?? sequenceLength(config);
  const out: number[] = [];
  for (let l = 0; l < layers; l++) {
    const r = keep?.[l] ?? 1;
    checkRatio(r, l);
    if (l > 0 && r < 1 && attentionComputed(opts.masks, l - 1)) n = keptTokenCount(n, r);
    out.push(n);
  }
  return out;
}

/** Keep ratio `ratio` at every block from `first` on, 1 before it (a per-block `tokenKeep`). */
export function tokenKeepFrom(layers: number, first: number, ratio: number): number[] {
  checkRatio(ratio, first);
  return Array.from({ length: layers }, (_, l) => (l >= first && l > 0 ? ratio : 1));
}

// ---- Plain TypeScript (the reference the TensorFlow.js path is tested against) ----

/**
 * Score of every key token from one example's attention probabilities [head][query][key]: the CLS
 * row, the last query's row, or the column sums, averaged over the heads the mask keeps.
 */
export function attentionReceived(probs: number[][][], kind: TokenScoring, headMask?: ArrayLike<number>): Float64Array {
  const t = probs[0].length;
  const scores = new Float64Array(t);
  let kept = 0;
  probs.forEach((ph, h) => {
    if (headMask && headMask[h] === 0) return;
    kept++;
    if (kind !== 'column-sum') {
      const row = ph[kind === 'cls' ? 0 : t - 1];
      for (let j = 0; j < t; j++) scores[j] += row[j];
    } else for (let i = 0; i < t; i++) for (let j = 0; j <= i; j++) scores[j] += ph[i][j];
  });
  if (kept === 0) throw new Error('attentionReceived: every head is masked');
  return scores.map((s) => s / kept);
}

/**
 * The `keep` tokens to carry on, ascending: the protected one, then the highest scores (ties to the
 * lower index, as tf.topk on the CPU backend breaks them).
 */
export function selectTokens(scores: ArrayLike<number>, keep: number, protect: number): number[] {
  const n = scores.length;
  if (!Number.isInteger(keep) || keep < 1 || keep > n)
    throw new Error(`selectTokens: keep must be in [1, ${n}], got ${keep}`);
  const order = Array.from({ length: n }, (_, i) => i).filter((i) => i !== protect);
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  return [protect, ...order.slice(0, keep - 1)].sort((a, b) => a - b);
}

// ---- TensorFlow.js (what the forward pass runs) ----

/** attentionReceived for a batch: probs [B, H, T, T] → scores [B, T]. */
export function attentionReceivedTf(probs: tf.Tensor, kind: TokenScoring, headMask?: ArrayLike<number>): tf.Tensor2D {
  return tf.tidy(() => {
    const [, h, t] = probs.shape;
    const received =
      kind === 'column-sum'
        ? tf.sum(probs, 2)
        : tf.squeeze(tf.slice(probs, [0, 0, kind === 'cls' ? 0 : t - 1, 0], [-1, -1, 1, -1]), [2]); // [B, H, T]
    const keep = Array.from({ length: h }, (_, i): number => (headMask && headMask[i] === 0 ? 0 : 1));
    const kept = keep.reduce((a, v) => a + v, 0);
    if (kept === 0) throw new Error('attentionReceived: every head is masked');
    const weighted = kept === h ? received : tf.mul(received, tf.reshape(tf.tensor1d(keep), [1, h, 1]));
    return tf.reshape(tf.div(tf.sum(weighted, 1), kept), [-1, t]) as tf.Tensor2D;
  });
}

/** selectTokens for a batch: scores [B, T] → int32 indices [B, keep], ascending in each row. */
export function selectTokensTf(scores: tf.Tensor2D, keep: number, protect: number): tf.Tensor2D {
  return tf.tidy(() => {
    const t = scores.shape[1];
    const isProtected = tf.reshape(tf.equal(tf.range(0, t, 1, 'int32'), protect), [1, t]);
    // Above any score (a CLS row is ≤ 1, a column sum ≤ T) but finite: tfjs's top-k compares by
    // subtraction, and Infinity − Infinity = NaN breaks its partitioning.
    const ranked = tf.where(tf.broadcastTo(isProtected, scores.shape), tf.fill(scores.shape, t + 1), scores);
    const { indices } = tf.topk(ranked, keep, false);
    // topk returns best first; sort each row ascending so the kept tokens stay in sequence order
    // (the causal mask of the next block relies on it, and ViT's CLS stays at index 0).
    const ascending = tf.neg(tf.topk(tf.neg(tf.cast(indices, 'float32')), keep, true).values);
    return tf.cast(ascending, 'int32') as tf.Tensor2D;
  });
}
