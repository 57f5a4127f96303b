// Evaluation of a token-pruned causal LM: only the last position of each window is a clean
// next-token prediction (model/tokens.ts says why), so each window scores that one position.
import * as tf from '@tensorflow/tfjs';
import type { TokenScoring } from '../model/tokens';
import { type CausalLmConfig, sequenceLength } from '../model/config';
import { forward } from '../model/forward';
import type { ModelMasks, Weights } from '../model/types';

export interface LastPositionMetrics {
  /** Mean cross-entropy (nats) of the prediction at the last position of each window. */
  loss: number;
  accuracy: number;
  /** Windows scored (one prediction each). */
  windows: number;
  /** Σ nll / ln 2 over the UTF-8 bytes of the predicted tokens. */
  bitsPerByte: number;
}

/**
 * Windows of `context` tokens every `stride` tokens; each scores only its last position's
 * next-token prediction — the one output of a token-pruned LM that never saw the future.
 */
export async function evaluateLmLastPosition(
  config: CausalLmConfig,
  weights: Weights,
  tokens: Int32Array,
  opts: {
    context?: number;
    stride?: number;
    masks?: ModelMasks;
    tokenKeep?: number[];
    tokenScoring?: TokenScoring;
    /** UTF-8 bytes of a token (the tokenizer's); default 1, a byte-level vocabulary. */
    tokenBytes?: (id: number) => number;
    batchSize?: number;
    signal?: AbortSignal;
    onProgress?: (f: number) => void;
  } = {},
): Promise<LastPositionMetrics> {
  const t = opts.context ?? sequenceLength(config);
  const stride = opts.stride ?? t;
  const windows = tokens.length > t ? Math.floor((tokens.length - t - 1) / stride) + 1 : 0;
  if (windows < 1) throw new Error(`evaluateLmLastPosition: need more than ${t} tokens, got ${tokens.length}`);
  const batch = opts.batchSize ?? 16;
  let nll = 0;
  let correct = 0;
  let bytes = 0;
  for (let w0 = 0; w0 < windows; w0 += batch) {
    opts.signal?.throwIfAborted();
    const m = Math.min(batch, windows - w0);
    const inp = new Int32Array(m * t);
    const tgt = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      const off = (w0 + i) * stride;
      inp.set(tokens.subarray(off, off + t), i * t);
      tgt[i] = tokens[off + t];
      bytes += opts.tokenBytes?.(tgt[i]) ?? 1;
    }
    const [lossT, hitsT] = tf.tidy(() => {
      const { logits } = forward(config, weights, tf.tensor2d(inp, [m, t], 'int32'), {
        masks: opts.masks,
        tokenKeep: opts.tokenKeep,
        tokenScoring: opts.tokenScoring,
      });
      const rows = logits.shape[1]!;
      const last = tf.reshape(tf.slice(logits, [0, rows - 1, 0], [m, 1, config.vocabSize]), [m, config.vocabSize]);
      const y = tf.tensor1d(tgt, 'int32');
      const loss = tf.neg(tf.sum(tf.mul(tf.oneHot(y, config.vocabSize), tf.logSoftmax(last))));
      return [loss, tf.sum(tf.cast(tf.equal(tf.argMax(last, -1), y), 'int32'))];
    });
    nll += (await lossT.data())[0];
    correct += (await hitsT.data())[0];
    tf.dispose([lossT, hitsT]);
    opts.onProgress?.((w0 + m) / windows);
  }
  return { loss: nll / windows, accuracy: correct / windows, windows, bitsPerByte: nll / Math.LN2 / bytes };
}
