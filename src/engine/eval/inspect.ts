// What the workbench's inspection views show of one input: attention maps, saliency (gradient ×
// input and attention rollout) and predictions. Every function takes the same optional masks and
// token keep ratios as the forward pass, so the "after pruning" view calls the same function with the
// pruned model's masks; every one frees the tensors it makes before it returns.
//
// Inputs: token ids (number[] / Int32Array) for GPT-2; one image for ViT, either raw pixels
// (Uint8Array [C, H, W], 0…255, normalised as the image processor does: see model/preprocess.ts) or
// already normalised pixels (Float32Array [C, H, W]).
import * as tf from '@tensorflow/tfjs';
import type { TokenScoring } from '../model/tokens';
import {
  type CausalLmConfig,
  headDim,
  hiddenSize,
  isCausalLm,
  numHeads,
  numLayers,
  sequenceLength,
  type ModelConfig,
  type VitConfig,
} from '../model/config';
import { forward } from '../model/forward';
import { GPT2_PREFIX, LLAMA_PREFIX, tokenEmbeddingName } from '../model/schema';
import type { Tokenizer } from '../model/tokenizer';
import type { ModelMasks, Weights } from '../model/types';
import { generate } from './generate';
import { pixelsToInput } from '../model/preprocess';

export type InspectInput = ArrayLike<number>;

export interface InspectOptions {
  masks?: ModelMasks;
  /** Checked between the passes a view makes (a sampled continuation's steps, saliency's two passes). */
  signal?: AbortSignal;
  /** Per-block token keep ratios (ForwardOptions.tokenKeep). */
  tokenKeep?: number[];
  tokenScoring?: TokenScoring;
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** The one-example input tensor: ids [1, T] int32 (GPT-2) or pixels [1, C, H, W] (ViT). */
function inputTensor(config: ModelConfig, input: InspectInput): tf.Tensor {
  if (isCausalLm(config)) {
    if (input.length === 0) throw new Error('inspect: the token sequence is empty');
    return tf.tensor2d(Int32Array.from(input), [1, input.length], 'int32');
  }
  const { numChannels: c, imageSize: s } = config;
  if (input.length !== c * s * s)
    throw new Error(`inspect: expected one image of ${c}×${s}×${s} values, got ${input.length}`);
  if (input instanceof Uint8Array) return pixelsToInput(config, input, 1);
  return tf.tensor4d(Float32Array.from(input), [1, c, s, s]);
}

/** Heads the stored checkpoint has in `layer` (fewer than the config's in a physically pruned one). */
function storedHeads(config: ModelConfig, weights: Weights, layer: number): number {
  const dh = headDim(config);
  if (config.kind === 'gpt2') {
    const w = weights.get(`${GPT2_PREFIX}h.${layer}.attn.c_attn.weight`);
    return w ? w.shape[1]! / 3 / dh : config.nHead;
  }
  const w = weights.get(
    config.kind === 'llama'
      ? `${LLAMA_PREFIX}layers.${layer}.self_attn.q_proj.weight`
      : `vit.encoder.layer.${layer}.attention.attention.query.weight`,
  );
  return w ? w.shape[0]! / dh : numHeads(config);
}

/** Whether the forward pass computes (and so captures) attention in `layer`. */
function attentionComputedIn(
  config: ModelConfig,
  weights: Weights,
  masks: ModelMasks | undefined,
  layer: number,
): boolean {
  return masks?.attention?.[layer] !== false && storedHeads(config, weights, layer) > 0;
}

function headRemoved(masks: ModelMasks | undefined, layer: number, head: number): boolean {
  return masks?.attention?.[layer] === false || masks?.heads?.[layer]?.[head] === 0;
}

/** v / max(v) (all values here are ≥ 0); all zeros stay zeros. */
function normalise01(v: Float32Array): Float32Array {
  let max = 0;
  for (const x of v) if (x > max) max = x;
  return max > 0 ? v.map((x) => x / max) : new Float32Array(v.length);
}

/** A per-patch array as the g × g patch grid, row-major (patch index = row · g + column). */
function toGrid(v: Float32Array, g: number): number[][] {
  return Array.from({ length: g }, (_, r) => Array.from(v.subarray(r * g, (r + 1) * g)));
}

// ---------------------------------------------------------------------------------------------
// 1. Attention maps

export interface HeadAttention {
  head: number;
  /** Removed by the masks (head mask 0, or the layer's attention sublayer removed). */
  removed: boolean;
  /**
   * Attention probabilities [query][key] row-major, tokens × tokens, rows summing to 1. A removed
   * head's map is still what it computes (its output is what the mask drops); null where the
   * layer computes no attention at all (sublayer removed, or no heads stored).
   */
  map: Float32Array | null;
}

export interface LayerAttention {
  layer: number;
  /** Tokens this block processed (fewer than the input's under token pruning). */
  tokens: number;
  /** Under token pruning: the original positions of those tokens, ascending; null without it. */
  positions: number[] | null;
  /** The whole attention sublayer is removed (masks.attention[layer] === false). */
  attentionRemoved: boolean;
  heads: HeadAttention[];
}

export interface AttentionMaps {
  kind: ModelConfig['kind'];
  /** Tokens of the input: ids for GPT-2, patches + CLS (index 0) for ViT. */
  tokens: number;
  layers: LayerAttention[];
}

/** Runs the forward pass with attention capture and hands back host copies; frees every tensor. */
async function capturedAttention(
  config: ModelConfig,
  weights: Weights,
  input: InspectInput,
  opts: InspectOptions,
): Promise<{
  logits: Float32Array;
  logitsShape: number[];
  maps: (Float32Array | null)[];
  shapes: (number[] | null)[];
  positions: (number[] | null)[];
  tokens: number;
}> {
  const [logitsT, attention, positions] = tf.tidy(() => {
    const x = inputTensor(config, input);
    const out = forward(config, weights, x, {
      masks: opts.masks,
      tokenKeep: opts.tokenKeep,
      tokenScoring: opts.tokenScoring,
      capture: { attention: true },
    });
    return [out.logits, out.attention ?? [], out.tokenPositions ?? []] as [tf.Tensor, tf.Tensor[], tf.Tensor[]];
  });
  try {
    const layers = numLayers(config);
    const maps: (Float32Array | null)[] = [];
    const shapes: (number[] | null)[] = [];
    let k = 0;
    for (let l = 0; l < layers; l++) {
      if (attentionComputedIn(config, weights, opts.masks, l)) {
        const a = attention[k++];
        maps.push((await a.data()) as Float32Array);
        shapes.push(a.shape.slice());
      } else {
        maps.push(null);
        shapes.push(null);
      }
    }
    const pos: (number[] | null)[] = [];
    for (let l = 0; l < layers; l++)
      pos.push(positions[l] ? Array.from((await positions[l].data()) as Int32Array) : null);
    const tokens = isCausalLm(config) ? input.length : (config.imageSize / config.patchSize) ** 2 + 1;
    return {
      logits: (await logitsT.data()) as Float32Array,
      logitsShape: logitsT.shape.slice(),
      maps,
      shapes,
      positions: pos,
      tokens,
    };
  } finally {
    tf.dispose([logitsT, ...attention, ...positions]);
  }
}

/** Per layer × head attention matrices of one input, under the given masks and token pruning. */
export async function attentionMaps(
  config: ModelConfig,
  weights: Weights,
  input: InspectInput,
  opts: InspectOptions = {},
): Promise<AttentionMaps> {
  const cap = await capturedAttention(config, weights, input, opts);
  const layers: LayerAttention[] = [];
  let tokens = cap.tokens;
  for (let l = 0; l < numLayers(config); l++) {
    const positions = cap.positions[l];
    if (positions) tokens = positions.length;
    const map = cap.maps[l];
    const shape = cap.shapes[l];
    const h = shape ? shape[1] : storedHeads(config, weights, l);
    if (shape) tokens = shape[2];
    const heads: HeadAttention[] = Array.from({ length: h }, (_, head) => ({
      head,
      removed: headRemoved(opts.masks, l, head),
      map: map ? map.slice(head * tokens * tokens, (head + 1) * tokens * tokens) : null,
    }));
    layers.push({ layer: l, tokens, positions, attentionRemoved: opts.masks?.attention?.[l] === false, heads });
  }
  return { kind: config.kind, tokens: cap.tokens, layers };
}

// ---------------------------------------------------------------------------------------------
// 2. Saliency

export interface SaliencyScores {
  /** Per input token (GPT-2) or per patch (ViT, CLS excluded), before normalisation. */
  raw: Float32Array;
  /** raw / max(raw), in [0, 1]. */
  normalized: Float32Array;
  /** ViT: `normalized` as the g × g patch grid (row-major), g = image size / patch size. */
  grid?: number[][];
}

export interface Saliency {
  kind: ModelConfig['kind'];
  /** The class (ViT) or next token (GPT-2) the gradient is taken for. */
  target: number;
  /** Its logit under the masks. */
  targetLogit: number;
  /** Null under token pruning (see gradientTimesInput). */
  gradientTimesInput: SaliencyScores | null;
  rollout: SaliencyScores;
}

export interface SaliencyOptions extends InspectOptions {
  /** Class / next token to explain; default the predicted one (argmax of the logits). */
  target?: number;
}

/**
 * Gradient × input and attention rollout for one input.
 *
 * Gradient × input: ‖(∂ logit_target / ∂ e_t) ⊙ e_t‖₂ over the embedding dimension, per token t,
 * where e_t is
 *  - GPT-2: the token embedding wte[id_t] of position t (before the position embedding is added; the
 *    gradient is the same for either, the product is not), the logit the one for `target` at the
 *    last position (default: the predicted next token);
 *  - ViT: patch t's embedding, the output of the patch projection (Conv2d) including its bias,
 *    before the CLS token is prepended and positions are added; the logit that of `target`
 *    (default: the predicted class).
 * Weight masks on the embedding apply to e_t. Under token pruning the gradient does not exist in
 * TensorFlow.js (the kept tokens are gathered by indices the input itself selected, and tfjs has no
 * gradient through that gather's indices), so `gradientTimesInput` is null there.
 *
 * Attention rollout (Abnar & Zuidema 2020): R = Â_L ··· Â_1 with Â_l = 0.5 · Ā_l + 0.5 · I, rows
 * renormalised, Ā_l the mean of layer l's attention over the heads the masks keep (a layer with its
 * attention removed, or every head masked, is the identity: only the residual passes). The CLS row
 * (ViT, over the patches) or the last row (GPT-2) is the per-token score. Under token pruning, R
 * maps each block's tokens to the original inputs: the rows of dropped tokens are dropped, so a
 * token pruned early keeps only what reached the survivors before it was dropped.
 */
export async function saliency(
  config: ModelConfig,
  weights: Weights,
  input: InspectInput,
  opts: SaliencyOptions = {},
): Promise<Saliency> {
  const cap = await capturedRolloutInputs(config, weights, input, opts);
  opts.signal?.throwIfAborted();
  const rolloutRow = rollout(cap.meanAttention, cap.positions, cap.tokens, config.kind === 'vit' ? 'first' : 'last');
  const target = opts.target ?? cap.predicted;
  const grad = opts.tokenKeep?.some((r) => r < 1)
    ? null
    : await gradientTimesInputRaw(config, weights, input, target, opts.masks);
  const g = config.kind === 'vit' ? config.imageSize / config.patchSize : 0;
  const scores = (raw: Float32Array): SaliencyScores => {
    const normalized = normalise01(raw);
    return config.kind === 'vit' ? { raw, normalized, grid: toGrid(normalized, g) } : { raw, normalized };
  };
  return {
    kind: config.kind,
    target,
    targetLogit: cap.logitsLast[target],
    gradientTimesInput: grad ? scores(grad) : null,
    rollout: scores(config.kind === 'vit' ? rolloutRow.slice(1) : rolloutRow),
  };
}

/** The forward pass once: per layer the head-mean attention [T_l, T_l] (null: identity), positions, logits. */
async function capturedRolloutInputs(config: ModelConfig, weights: Weights, input: InspectInput, opts: InspectOptions) {
  const layers = numLayers(config);
  // Which layers have a head-mean map (the others are the identity), and the maps in that order.
  const hasMean: boolean[] = [];
  const [logitsT, means, positionsT] = tf.tidy(() => {
    const x = inputTensor(config, input);
    const out = forward(config, weights, x, {
      masks: opts.masks,
      tokenKeep: opts.tokenKeep,
      tokenScoring: opts.tokenScoring,
      capture: { attention: true },
    });
    const captured = out.attention ?? [];
    const means: tf.Tensor[] = [];
    let k = 0;
    for (let l = 0; l < layers; l++) {
      if (!attentionComputedIn(config, weights, opts.masks, l)) {
        hasMean.push(false);
        continue;
      }
      const a = captured[k++]; // [1, H, T, T]
      const h = a.shape[1]!;
      const keep = Array.from({ length: h }, (_, i): number => (opts.masks?.heads?.[l]?.[i] === 0 ? 0 : 1));
      const kept = keep.reduce((s, v) => s + v, 0);
      hasMean.push(kept > 0);
      if (kept > 0) means.push(tf.div(tf.sum(tf.mul(a, tf.reshape(tf.tensor1d(keep), [1, h, 1, 1])), [0, 1]), kept));
    }
    const rows = out.logits.rank === 3 ? out.logits.shape[1]! : 1;
    const last = isCausalLm(config)
      ? tf.reshape(tf.slice(out.logits, [0, rows - 1, 0], [1, 1, -1]), [-1])
      : tf.reshape(out.logits, [-1]);
    return [last, means, out.tokenPositions ?? []] as [tf.Tensor, tf.Tensor[], tf.Tensor[]];
  });
  try {
    const meanAttention: (Float32Array | null)[] = [];
    let k = 0;
    for (const has of hasMean) meanAttention.push(has ? ((await means[k++].data()) as Float32Array) : null);
    const positions: (number[] | null)[] = [];
    for (let l = 0; l < layers; l++)
      positions.push(positionsT[l] ? Array.from((await positionsT[l].data()) as Int32Array) : null);
    const logitsLast = (await logitsT.data()) as Float32Array;
    let predicted = 0;
    for (let i = 1; i < logitsLast.length; i++) if (logitsLast[i] > logitsLast[predicted]) predicted = i;
    const tokens = isCausalLm(config) ? input.length : (config.imageSize / config.patchSize) ** 2 + 1;
    return { meanAttention, positions, logitsLast, predicted, tokens };
  } finally {
    tf.dispose([logitsT, ...means, ...positionsT]);
  }
}

/**
 * One row of the rollout product, by vector × matrix from the last layer down (the product of
 * row-stochastic matrices is row-stochastic, so the renormalisation only removes rounding).
 * `positions[l]`: original positions of block l's tokens (token pruning) or null.
 */
function rollout(
  mean: (Float32Array | null)[],
  positions: (number[] | null)[],
  tokens: number,
  row: 'first' | 'last',
): Float32Array {
  const layers = mean.length;
  // Tokens each block processed, as indices into the previous block's tokens.
  const sizes: number[] = [];
  const selected: (number[] | null)[] = [];
  let prev: number[] = Array.from({ length: tokens }, (_, i) => i);
  for (let l = 0; l < layers; l++) {
    const pos = positions[l];
    if (pos && pos.length < prev.length) {
      const where = new Map(prev.map((p, i) => [p, i]));
      selected.push(pos.map((p) => where.get(p)!));
      prev = pos;
    } else selected.push(null);
    sizes.push(prev.length);
  }
  const tLast = sizes[layers - 1] ?? tokens;
  let v = new Float64Array(tLast);
  v[row === 'first' ? 0 : tLast - 1] = 1;
  for (let l = layers - 1; l >= 0; l--) {
    const t = sizes[l];
    const a = mean[l];
    if (a) {
      // v ← v · (0.5 · A + 0.5 · I), each row of that renormalised.
      const next = new Float64Array(t);
      for (let i = 0; i < t; i++) {
        if (v[i] === 0) continue;
        let rowSum = 0;
        for (let j = 0; j < t; j++) rowSum += a[i * t + j];
        const scale = 1 / (0.5 * rowSum + 0.5);
        for (let j = 0; j < t; j++) next[j] += v[i] * 0.5 * a[i * t + j] * scale;
        next[i] += v[i] * 0.5 * scale;
      }
      v = next;
    }
    const sel = selected[l];
    if (sel) {
      // Back to the tokens of the block before: the kept ones carry v, the dropped ones get 0.
      const before = new Float64Array(l === 0 ? tokens : sizes[l - 1]);
      sel.forEach((j, i) => {
        before[j] += v[i];
      });
      v = before;
    }
  }
  return Float32Array.from(v);
}

/**
 * ‖(∂ logit_target / ∂ e_t) ⊙ e_t‖₂ per token / patch. The forward pass takes ids or pixels, not
 * embeddings, so the embeddings enter through the weights: GPT-2 runs on the ids 0…T−1 with a token
 * table whose rows are the input's embeddings (the LM head keeps the original table); ViT runs on a
 * one-hot "image" whose patch n is the n-th basis vector, with a projection whose n-th column is the
 * n-th patch embedding and a zero bias. Both reproduce the original forward exactly.
 */
async function gradientTimesInputRaw(
  config: ModelConfig,
  weights: Weights,
  input: InspectInput,
  target: number,
  masks?: ModelMasks,
): Promise<Float32Array> {
  const result = tf.tidy(() => {
    if (isCausalLm(config)) {
      const { emb, run } = lmEmbeddingForward(config, weights, input, masks);
      const f = (e: tf.Tensor) => {
        const logits = run(e);
        const rows = logits.shape[1]!;
        return tf.sum(tf.slice(logits, [0, rows - 1, target], [1, 1, 1])) as tf.Scalar;
      };
      const g = tf.grad(f)(emb);
      return tf.slice(tf.norm(tf.mul(g, emb), 2, -1), [0], [input.length]);
    }
    const { emb, run } = vitEmbeddingForward(config, weights, input, masks);
    const f = (e: tf.Tensor) => tf.sum(tf.slice(run(e), [0, target], [1, 1])) as tf.Scalar;
    const g = tf.grad(f)(emb);
    return tf.norm(tf.mul(g, emb), 2, -1);
  });
  try {
    return Float32Array.from(await result.data());
  } finally {
    result.dispose();
  }
}

/** Weight masks without the named tensors (the embedding path replaced them), plus `extra`. */
function masksWithout(
  masks: ModelMasks | undefined,
  names: string[],
  extra?: [string, tf.Tensor],
): ModelMasks | undefined {
  if (!masks?.weights) return masks;
  const w = new Map(masks.weights);
  for (const n of names) w.delete(n);
  if (extra) w.set(...extra);
  return { ...masks, weights: w };
}

/**
 * A language model as a function of the input's token embeddings: emb [V', d] (the T embeddings first, zero rows
 * after so the one-hot embedding path, which every backend can differentiate, sees the vocabulary
 * size it expects). Call inside a tidy.
 */
export function lmEmbeddingForward(config: CausalLmConfig, weights: Weights, input: InspectInput, masks?: ModelMasks) {
  const t = input.length;
  const wteName = tokenEmbeddingName(config);
  const wte = weights.get(wteName)!;
  const wteMask = masks?.weights?.get(wteName);
  const maskedWte = wteMask ? tf.mul(wte, wteMask) : wte;
  const ids = tf.tensor1d(Int32Array.from(input), 'int32');
  const rows = tf.gather(maskedWte, ids); // [T, d]
  const oneHot = t <= config.vocabSize;
  const emb =
    oneHot && t < config.vocabSize ? tf.concat([rows, tf.zeros([config.vocabSize - t, hiddenSize(config)])], 0) : rows;
  const tied = !weights.has('lm_head.weight');
  const m = masksWithout(masks, [wteName], tied && wteMask ? ['lm_head.weight', wteMask] : undefined);
  const positionsIds = tf.tensor2d(
    Int32Array.from({ length: t }, (_, i) => i),
    [1, t],
    'int32',
  );
  const run = (e: tf.Tensor): tf.Tensor => {
    const w = new Map(weights);
    w.set(wteName, e);
    if (tied) w.set('lm_head.weight', wte);
    return forward(config, w, positionsIds, { masks: m, oneHotEmbedding: oneHot }).logits;
  };
  return { emb, run };
}

/**
 * ViT as a function of the patch embeddings: emb [N, d] (patch projection output, bias included).
 * Needs N ≤ C·p·p (true of any usual ViT). Call inside a tidy.
 */
export function vitEmbeddingForward(config: VitConfig, weights: Weights, input: InspectInput, masks?: ModelMasks) {
  const { numChannels: c, imageSize: s, patchSize: p, hiddenSize: d } = config;
  const g = s / p;
  const n = g * g;
  const k = c * p * p;
  if (n > k) throw new Error(`gradient × input: ${n} patches exceed the patch size ${k}; not supported`);
  const wName = 'vit.embeddings.patch_embeddings.projection.weight';
  const bName = 'vit.embeddings.patch_embeddings.projection.bias';
  const param = (name: string) => {
    const mask = masks?.weights?.get(name);
    return mask ? tf.mul(weights.get(name)!, mask) : weights.get(name)!;
  };
  const x = inputTensor(config, input);
  const patches = tf.reshape(tf.transpose(tf.reshape(x, [1, c, g, p, g, p]), [0, 2, 4, 1, 3, 5]), [n, k]);
  const emb = tf.add(tf.matMul(patches, tf.reshape(param(wName), [d, k]), false, true), param(bName)); // [N, d]
  // The one-hot image: patch i is basis vector i of the flattened (channel, row, column) patch.
  const basis = tf.reshape(tf.eye(n, k), [1, g, g, c, p, p]);
  const image = tf.reshape(tf.transpose(basis, [0, 3, 1, 4, 2, 5]), [1, c, s, s]);
  const zeroBias = tf.zeros([d]);
  const m = masksWithout(masks, [wName, bName]);
  const run = (e: tf.Tensor): tf.Tensor => {
    const w = new Map(weights);
    const proj = n < k ? tf.concat([e, tf.zeros([k - n, d])], 0) : e; // [K, d]
    w.set(wName, tf.reshape(tf.transpose(proj), [d, c, p, p]));
    w.set(bName, zeroBias);
    return forward(config, w, image, { masks: m }).logits;
  };
  return { emb, run };
}

// ---------------------------------------------------------------------------------------------
// 3. Predictions

export interface ClassProbability {
  index: number;
  label: string;
  prob: number;
}

export interface ClassPredictions {
  kind: 'image-classifier';
  /** Softmax over every class, in id order. */
  probs: Float32Array;
  /** Best first. */
  top: ClassProbability[];
}

export interface TokenProbability {
  id: number;
  prob: number;
  /** The bytes the token stands for (a byte model: the one byte, = id). */
  bytes: number[];
  /** The token decoded alone (with a tokenizer, its decode; invalid UTF-8 as U+FFFD). */
  text: string;
  /** A visible form (displayBytes). */
  display: string;
}

export interface NextTokenPredictions {
  kind: 'causal-lm';
  /** Next-token distribution after the last position (softmax of its logits). */
  probs: Float32Array;
  top: TokenProbability[];
  /** The sampled continuation, when asked for. */
  continuation?: { ids: number[]; text: string | null };
}

export interface PredictOptions extends InspectOptions {
  /** Entries in `top` (default 5 for classes, 10 for tokens). */
  topK?: number;
  /** GPT-2: decodes tokens to bytes and text; without it a vocabulary of ≤ 256 reads ids as bytes. */
  tokenizer?: TokenDecoder | null;
  /** GPT-2: sample a continuation (generate.ts: temperature sampling, seeded). */
  continuation?: { steps: number; temperature?: number; seed?: number };
}

/** What predictions need of a tokenizer: a token's bytes and text. */
type TokenDecoder = Pick<Tokenizer, 'decode' | 'tokenToBytes'>;

function topIndices(probs: Float32Array, k: number): number[] {
  return Array.from(probs.keys())
    .sort((a, b) => probs[b] - probs[a] || a - b)
    .slice(0, Math.min(k, probs.length));
}

const utf8 = new TextDecoder('utf-8');
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function tokenBytes(id: number, vocab: number, tokenizer?: TokenDecoder | null): number[] {
  if (tokenizer) return Array.from(tokenizer.tokenToBytes(id));
  return vocab <= 256 ? [id] : [];
}

/**
 * A token's visible form: ␣ for space, ↵ for newline, ⇥ for tab, \xNN for another control or
 * non-ASCII single byte; else the text of its own bytes, so a SentencePiece piece shows the space
 * it starts with ("▁the" decodes alone to "the"); a token holding part of a character, or no bytes
 * (a special token), shows its decoded text.
 */
export function displayBytes(bytes: number[], text: string): string {
  if (bytes.length === 1) {
    const b = bytes[0];
    if (b === 0x20) return '␣';
    if (b === 0x0a) return '↵';
    if (b === 0x09) return '⇥';
    if (b < 0x20 || b >= 0x7f) return `\\x${b.toString(16).padStart(2, '0')}`;
    return String.fromCharCode(b);
  }
  let own = text;
  if (bytes.length > 0) {
    try {
      own = strictUtf8.decode(Uint8Array.from(bytes));
    } catch {
      // Part of a character: its decoded text (U+FFFD) says so.
    }
  }
  return own.replace(/ /g, '␣').replace(/\n/g, '↵').replace(/\t/g, '⇥');
}

/** Class probabilities of one image. */
export async function predictClasses(
  config: VitConfig,
  weights: Weights,
  input: InspectInput,
  opts: PredictOptions = {},
): Promise<ClassPredictions> {
  const probsT = tf.tidy(() => {
    const { logits } = forward(config, weights, inputTensor(config, input), {
      masks: opts.masks,
      tokenKeep: opts.tokenKeep,
      tokenScoring: opts.tokenScoring,
    });
    return tf.reshape(tf.softmax(logits), [-1]);
  });
  const probs = Float32Array.from(await probsT.data());
  probsT.dispose();
  const top = topIndices(probs, opts.topK ?? 5).map((index) => ({
    index,
    label: config.labels[index] ?? `LABEL_${index}`,
    prob: probs[index],
  }));
  return { kind: 'image-classifier', probs, top };
}

/**
 * The next-token distribution after `ids` (the last nPositions of them), its top entries, and on
 * request a sampled continuation — by generate.ts, or under token pruning by the same sampler
 * reading the last row of the token-pruned forward.
 */
export async function predictNext(
  config: CausalLmConfig,
  weights: Weights,
  ids: InspectInput,
  opts: PredictOptions = {},
): Promise<NextTokenPredictions> {
  const prompt = Array.from(ids);
  const window = prompt.slice(-sequenceLength(config));
  const probsT = tf.tidy(() => {
    const { logits } = forward(config, weights, inputTensor(config, window), {
      masks: opts.masks,
      tokenKeep: opts.tokenKeep,
      tokenScoring: opts.tokenScoring,
    });
    const rows = logits.shape[1]!;
    return tf.reshape(tf.softmax(tf.slice(logits, [0, rows - 1, 0], [1, 1, -1])), [-1]);
  });
  const probs = Float32Array.from(await probsT.data());
  probsT.dispose();
  const top = topIndices(probs, opts.topK ?? 10).map((id) => {
    const bytes = tokenBytes(id, config.vocabSize, opts.tokenizer);
    const text = opts.tokenizer ? opts.tokenizer.decode([id]) : utf8.decode(Uint8Array.from(bytes));
    return { id, prob: probs[id], bytes, text, display: displayBytes(bytes, text) };
  });
  const out: NextTokenPredictions = { kind: 'causal-lm', probs, top };
  if (opts.continuation) {
    const c = opts.continuation;
    const sampled = await generate(config, weights, prompt, {
      ...c,
      masks: opts.masks,
      tokenKeep: opts.tokenKeep,
      tokenScoring: opts.tokenScoring,
      signal: opts.signal,
    });
    const text = opts.tokenizer
      ? opts.tokenizer.decode(sampled)
      : config.vocabSize <= 256
        ? utf8.decode(Uint8Array.from(sampled))
        : null;
    out.continuation = { ids: sampled, text };
  }
  return out;
}

/** predictClasses or predictNext, by the model's kind. */
export function predictions(
  config: ModelConfig,
  weights: Weights,
  input: InspectInput,
  opts: PredictOptions = {},
): Promise<ClassPredictions | NextTokenPredictions> {
  return config.kind === 'vit'
    ? predictClasses(config, weights, input, opts)
    : predictNext(config, weights, input, opts);
}
