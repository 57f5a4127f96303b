// A pruned weight during recovery: exactly +0, as pruning/masked.ts writes it on the host.
import * as tf from '@tensorflow/tfjs';

/**
 * x with the mask's zeros: a removed weight is +0 whatever it held, as pruning/masked.ts writes it
 * (a product would leave −0, or NaN from an infinity). The mask is bool (true: kept), or 0/1 floats.
 * Differentiable in x.
 */
export function applyMask(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.where(mask.dtype === 'bool' ? mask : tf.greater(mask, 0), x, tf.zerosLike(x)));
}
