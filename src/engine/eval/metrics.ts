// Held-out metrics: top-1 accuracy for classifiers; loss, bits per byte, perplexity and next-token
// accuracy for causal LMs. Batched so memory stays flat whatever the set's size; every batch's
// tensors are freed before the next.
import * as tf from '@tensorflow/tfjs';
import type { TokenScoring } from '../model/tokens';
import { type CausalLmConfig, sequenceLength, type VitConfig } from '../model/config';
import { forward } from '../model/forward';
import { logSumExpRows } from '../backends/fused';
import { crossEntropySum } from '../model/loss';
import { type ImageNormalization, pixelsToInput } from '../model/preprocess';
import type { LinearOverride, ModelMasks, Weights } from '../model/types';

export interface ClassifierMetrics {
  kind: 'classifier';
  accuracy: number;
  loss: number; // mean cross-entropy, nats
  count: number;
}

export interface LmMetrics {
  kind: 'lm';
  loss: number; // mean cross-entropy per predicted token, nats
  bitsPerByte: number;
  perplexity: number;
  nextTokenAccuracy: number;
  tokens: number;
}

export type Metrics = ClassifierMetrics | LmMetrics;

/**
 * The metric over the examples measured so far, while an evaluation runs: an estimate of the
 * whole set's. Once every example is in, `metric` is the evaluation's result exactly.
 */
export interface PartialMetrics {
  metric: Metrics;
  /** Examples measured so far and in all: images, or windows of text. */
  seen: number;
  total: number;
  /**
   * Standard error of the headline value (accuracy, or bits per byte) as an estimate of the whole
   * set's, were the examples seen a random draw from it: the spread over examples (windows for
   * text), finite-population corrected, so 0 once all are seen. The shipped sets are in file
   * order, so read it as a scale of the noise, not a guarantee.
   */
  stderr: number;
}

export interface EvalOptions {
  masks?: ModelMasks;
  /** Linear products computed another way (the pruned model's sparse kernels); settled between batches. */
  linears?: LinearOverride;
  /** Per-block token keep ratios (dynamic token pruning; classifiers only — see evaluateLmLastPosition). */
  tokenKeep?: number[];
  tokenScoring?: TokenScoring;
  batchSize?: number;
  /**
   * Examples (windows of text, images) in the first batch (at most batchSize): a small first batch
   * gives the first estimate sooner, the same result.
   */
  firstBatchSize?: number;
  /** Called after each batch with the fraction done; return value ignored. */
  onProgress?: (fraction: number) => void;
  /** Called after each batch with the metric over the examples seen so far (after onProgress). */
  onPartial?: (partial: PartialMetrics) => void;
  signal?: AbortSignal;
}

/** Mean of per-example values seen so far, and its standard error as an estimate of the mean over all `total`. */
export class RunningMean {
  private n = 0;
  private sum = 0;
  private sumSq = 0;

  add(x: number): void {
    this.n++;
    this.sum += x;
    this.sumSq += x * x;
  }

  /** Finite-population-corrected standard error; NaN before two values are in. */
  stderr(total: number): number {
    const n = this.n;
    if (n < 2) return Number.NaN;
    const mean = this.sum / n;
    const variance = Math.max(0, (this.sumSq - n * mean * mean) / (n - 1));
    return Math.sqrt((variance / n) * Math.max(0, 1 - n / total));
  }
}

const classifierMetrics = (correct: number, lossSum: number, count: number): ClassifierMetrics => ({
  kind: 'classifier',
  accuracy: correct / count,
  loss: lossSum / count,
  count,
});

/**
 * At most this many values in a batch's widest activation (2 MB of f32; the FFN's, or the
 * attention scores'): a pass holds a few such tensors at once. 250 images of ViT-Base would hold
 * 600 MB in each, past a tab's WASM heap; vit-fashion's batch of 120 keeps its evaluation's heap
 * at 24 MB, where 250 grew it to 50 MB of fresh pages (each first touch a page fault).
 */
const ACTIVATIONS_PER_BATCH = 2 ** 19;

/** Images per evaluation batch: as many as ACTIVATIONS_PER_BATCH allows, 1 to 250. */
export function classifierBatch(config: VitConfig): number {
  const t = sequenceLength(config);
  const widest = t * Math.max(config.intermediateSize, config.numHeads * t);
  return Math.max(1, Math.min(250, Math.floor(ACTIVATIONS_PER_BATCH / widest)));
}

export async function evaluateClassifier(
  config: VitConfig,
  weights: Weights,
  images: Uint8Array,
  labels: Uint8Array,
  opts: EvalOptions & { normalization?: ImageNormalization | null } = {},
): Promise<ClassifierMetrics> {
  const n = labels.length;
  const per = config.numChannels * config.imageSize * config.imageSize;
  const batch = opts.batchSize ?? classifierBatch(config);
  let correct = 0;
  let lossSum = 0;
  const hits = new RunningMean();
  for (let start = 0, m = 0; start < n; start += m) {
    opts.signal?.throwIfAborted();
    m = Math.min(start === 0 ? Math.min(batch, opts.firstBatchSize ?? batch) : batch, n - start);
    const [pred, loss] = tf.tidy(() => {
      const x = pixelsToInput(config, images.subarray(start * per, (start + m) * per), m, opts.normalization);
      const { logits } = forward(config, weights, x, {
        masks: opts.masks,
        tokenKeep: opts.tokenKeep,
        tokenScoring: opts.tokenScoring,
        linears: opts.linears,
      });
      const y = tf.tensor1d(labels.subarray(start, start + m), 'int32');
      return [tf.argMax(logits, -1), crossEntropySum(logits, y, config.labels.length)];
    });
    const p = (await pred.data()) as Int32Array;
    lossSum += (await loss.data())[0];
    tf.dispose([pred, loss]);
    await opts.linears?.settle?.(opts.signal);
    for (let i = 0; i < m; i++) {
      const hit = p[i] === labels[start + i] ? 1 : 0;
      correct += hit;
      hits.add(hit);
    }
    opts.onProgress?.((start + m) / n);
    opts.onPartial?.({
      metric: classifierMetrics(correct, lossSum, start + m),
      seen: start + m,
      total: n,
      stderr: hits.stderr(n),
    });
  }
  return classifierMetrics(correct, lossSum, n);
}

/**
 * At most this many logits per evaluation batch (128 MB of f32): the loss holds a few tensors of
 * that size at once, so GPT-2's 50,257-word vocabulary over 16 windows of 128 tokens would take
 * 1.6 GB of the WASM heap. Small vocabularies keep batches of 16 windows.
 */
const LOGITS_PER_BATCH = 2 ** 25;

/** How a text is cut into evaluation windows. */
export interface LmWindowOptions {
  /** Tokens each window feeds the model (default: sequenceLength(config)). */
  context?: number;
  /**
   * Tokens between the starts of consecutive windows (default: the context, so windows do not
   * overlap). With a smaller stride each window scores only the targets the ones before it did
   * not, as transformers' strided perplexity does: every target once, with more context before it.
   */
  stride?: number;
  /** At most this many windows, from the start of the text. */
  maxWindows?: number;
}

/** The windows `tokens` gives: each starts `stride` after the last and needs context + 1 tokens. */
export function lmWindowCount(tokens: number, context: number, stride = context, maxWindows = Infinity): number {
  if (tokens < context + 1) return 0;
  return Math.min(maxWindows, Math.floor((tokens - 1 - context) / stride) + 1);
}

// The first position window `w` scores: the targets before it were scored by the window before.
const firstScored = (w: number, context: number, stride: number) => (w === 0 ? 0 : Math.max(0, context - stride));

/**
 * Windows [first, first + count) of `tokens` as evaluateLm cuts them: inputs and targets
 * ([count × context] each), 1 where a target is scored, and the UTF-8 bytes of the scored targets
 * (with `tokenBytes`; else 0).
 */
export function lmWindowBatch(
  tokens: Int32Array,
  w: { context: number; stride: number },
  first: number,
  count: number,
  tokenBytes?: (id: number) => number,
): { inp: Int32Array; tgt: Int32Array; scored: Float32Array; bytes: number } {
  const t = w.context;
  const inp = new Int32Array(count * t);
  const tgt = new Int32Array(count * t);
  const scored = new Float32Array(count * t);
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const off = (first + i) * w.stride;
    inp.set(tokens.subarray(off, off + t), i * t);
    tgt.set(tokens.subarray(off + 1, off + t + 1), i * t);
    for (let j = firstScored(first + i, t, w.stride); j < t; j++) {
      scored[i * t + j] = 1;
      if (tokenBytes) bytes += tokenBytes(tokens[off + j + 1]);
    }
  }
  return { inp, tgt, scored, bytes };
}

/**
 * Cuts `tokens` into windows of context+1 (non-overlapping unless `stride` says otherwise) and
 * scores every next-token prediction each window adds. `bytes` is how many bytes of text the tokens
 * encode (= tokens for a byte model), for bits per byte; with `tokenBytes`, the bytes are counted
 * exactly as the UTF-8 of the targets scored, so a part of a text (a stride, a count of windows)
 * is divided by the bytes it covered.
 */
export async function evaluateLm(
  config: CausalLmConfig,
  weights: Weights,
  tokens: Int32Array,
  bytes: number,
  opts: EvalOptions &
    LmWindowOptions & {
      tokenBytes?: (id: number) => number;
      /**
       * The logits of the batch of windows starting at window `first` (inside a tidy), instead of the
       * forward pass over `weights`: a model run a block at a time hands in what it computed.
       */
      logitsOf?: (input: tf.Tensor2D, first: number) => tf.Tensor;
    } = {},
): Promise<LmMetrics> {
  const t = opts.context ?? sequenceLength(config);
  const stride = opts.stride ?? t;
  if (!(Number.isInteger(stride) && stride >= 1)) throw new Error(`evaluateLm: stride must be ≥ 1, got ${stride}`);
  const windows = lmWindowCount(tokens.length, t, stride, opts.maxWindows);
  if (windows < 1) throw new Error(`evaluateLm: need more than ${t} tokens, got ${tokens.length}`);
  const scoredIn = (w: number) => t - firstScored(w, t, stride);
  const batch = opts.batchSize ?? Math.max(1, Math.min(16, Math.floor(LOGITS_PER_BATCH / (t * config.vocabSize))));
  let nll = 0;
  let correct = 0;
  let predicted = 0;
  let coveredBytes = 0;
  // Per-window mean loss, for the partial results' standard error.
  const windowLoss = new RunningMean();
  const byteCount = (n: number) => (opts.tokenBytes ? coveredBytes : bytes * (n / tokens.length));
  const metrics = (): LmMetrics => {
    const loss = nll / predicted;
    return {
      kind: 'lm',
      loss,
      // Without tokenBytes the bytes are scaled to the predicted share of the tokens, so a byte
      // model's bpb = loss / ln 2.
      bitsPerByte: nll / Math.LN2 / byteCount(predicted),
      perplexity: Math.exp(loss),
      nextTokenAccuracy: correct / predicted,
      tokens: predicted,
    };
  };
  for (let w0 = 0, m = 0; w0 < windows; w0 += m) {
    opts.signal?.throwIfAborted();
    m = Math.min(w0 === 0 ? Math.min(batch, opts.firstBatchSize ?? batch) : batch, windows - w0);
    const {
      inp,
      tgt,
      scored,
      bytes: batchBytes,
    } = lmWindowBatch(tokens, { context: t, stride }, w0, m, opts.tokenBytes);
    coveredBytes += batchBytes;
    const [lossT, hitsT, perWindowT] = tf.tidy(() => {
      const input = tf.tensor2d(inp, [m, t], 'int32');
      const logits = opts.logitsOf
        ? opts.logitsOf(input, w0)
        : forward(config, weights, input, { masks: opts.masks, linears: opts.linears }).logits;
      const flat = tf.reshape(logits, [m * t, config.vocabSize]);
      const y = tf.tensor1d(tgt, 'int32');
      const keep = tf.tensor1d(scored, 'float32');
      // crossEntropySum's terms per position, the targets an earlier window scored left out.
      // The target's log-probability, picked by index: a one-hot of the vocabulary would add two
      // more tensors the logits' size (200 MB each for a 1,024-token window of GPT-2).
      const rows = tf.range(0, m * t, 1, 'int32');
      const picked = tf.gather(tf.reshape(flat, [-1]), tf.add(tf.mul(rows, tf.scalar(config.vocabSize, 'int32')), y));
      const logp = tf.mul(tf.sub(picked, logSumExpRows(flat as tf.Tensor2D)), keep);
      const loss = tf.neg(tf.sum(logp));
      const perWindow = tf.neg(tf.sum(tf.reshape(logp, [m, t]), 1));
      const hits = tf.sum(tf.mul(tf.cast(tf.equal(tf.argMax(flat, -1), y), 'float32'), keep));
      return [loss, hits, perWindow];
    });
    const [lossV, hitsV, perWindowV] = await Promise.all([lossT.data(), hitsT.data(), perWindowT.data()]);
    nll += lossV[0];
    correct += Math.round(hitsV[0]);
    perWindowV.forEach((v, i) => {
      windowLoss.add(v / scoredIn(w0 + i));
      predicted += scoredIn(w0 + i);
    });
    tf.dispose([lossT, hitsT, perWindowT]);
    await opts.linears?.settle?.(opts.signal);
    opts.onProgress?.((w0 + m) / windows);
    if (opts.onPartial) {
      const seen = w0 + m;
      // bits per byte = mean loss per token × tokens per byte / ln 2.
      const stderr = (windowLoss.stderr(windows) * predicted) / byteCount(predicted) / Math.LN2;
      opts.onPartial({ metric: metrics(), seen, total: windows, stderr });
    }
  }
  return metrics();
}
