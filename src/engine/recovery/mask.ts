// A pruned weight during recovery: exactly +0, as pruning/masked.ts writes it on the host.
import * as tf from '@tensorflow/tfjs';

/**
 * x with the mask's zeros: a removed weight is +0 whatever it held, as pruning/masked.ts writes it
 * (a product would leave −0, or NaN from an infinity). Differentiable in x.
 */
export function applyMask(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.where(tf.greater(mask, 0), x, tf.zerosLike(x)));
}
