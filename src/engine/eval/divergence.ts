// How far a pruned model's predictions moved from the dense model's: the mean KL(p_dense ‖ p) per
// predicted position (every token of a text window, one class distribution per image), on the first
// examples of the calibration data. EvoPress scores its candidate splits by it. The dense model's
// log-probabilities are computed once per batch and kept while they fit MAX_KEPT_FLOATS; a larger
// vocabulary (GPT-2's 50 257) has them recomputed with each candidate instead.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../model/config';
import { forward } from '../model/forward';
import type { ModelMasks, Weights } from '../model/types';
import { type CalibrationData, defaultBatchSize, forEachBatch } from '../pruning/calibration';

/** Σ over rows of KL(softmax(ref) ‖ softmax(logits)); refLogP holds log-probabilities [rows, C]. */
export function klSum(refLogP: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  const classes = refLogP.shape[1]!;
  const logP = tf.logSoftmax(tf.reshape(logits, [-1, classes]));
  return tf.sum(tf.mul(tf.exp(refLogP), tf.sub(refLogP, logP))) as tf.Scalar;
}

/** Log-probabilities [rows, classes] of a model's predictions on a batch. */
export function logProbs(config: ModelConfig, weights: Weights, input: tf.Tensor, masks?: ModelMasks): tf.Tensor {
  return tf.tidy(() => {
    const logits = forward(config, weights, input, { masks }).logits;
    return tf.logSoftmax(tf.reshape(logits, [-1, logits.shape[logits.rank - 1]!]));
  });
}

/** 64 M floats (256 MB) of dense log-probabilities kept at most. */
const MAX_KEPT_FLOATS = 64 * 2 ** 20;

export class DenseDivergence {
  private readonly kept = new Map<number, tf.Tensor>();
  private keptFloats = 0;

  constructor(
    private readonly config: ModelConfig,
    private readonly dense: Weights,
    private readonly data: CalibrationData,
    private readonly batchSize = defaultBatchSize(data),
  ) {}

  /** Mean KL(p_dense ‖ p_weights) in nats per predicted position, over the first `examples` examples. */
  async mean(weights: Weights, examples: number, signal?: AbortSignal): Promise<number> {
    if (!(Number.isInteger(examples) && examples >= 1 && examples <= this.data.count))
      throw new Error(`the divergence is measured on 1 to ${this.data.count} calibration examples, not ${examples}`);
    let sum = 0;
    let rows = 0;
    const first = { ...this.data, count: examples };
    await forEachBatch(this.config, first, { batchSize: this.batchSize, signal }, async (b) => {
      // Batches start at multiples of the batch size, so a batch's start names it whatever `examples` is.
      const whole = b.end - b.start === this.batchSize || b.end === this.data.count;
      let ref = whole ? this.kept.get(b.start) : undefined;
      const made = !ref;
      ref ??= logProbs(this.config, this.dense, b.input);
      try {
        const s = tf.tidy(() => klSum(ref, forward(this.config, weights, b.input).logits));
        sum += (await s.data())[0];
        s.dispose();
        rows += ref.shape[0]!;
      } finally {
        if (made) {
          if (whole && this.keptFloats + ref.size <= MAX_KEPT_FLOATS) {
            this.kept.set(b.start, ref);
            this.keptFloats += ref.size;
          } else ref.dispose();
        }
      }
    });
    return sum / rows;
  }

  dispose(): void {
    tf.dispose([...this.kept.values()]);
    this.kept.clear();
    this.keptFloats = 0;
  }
}
