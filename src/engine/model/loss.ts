// The training loss both architectures share: cross-entropy over class or vocabulary logits.
import * as tf from '@tensorflow/tfjs';

/** Σ over rows of −log softmax(logits)[label]: logits [n, classes], labels int32 [n]. */
export function crossEntropySum(logits: tf.Tensor, labels: tf.Tensor, classes: number): tf.Scalar {
  return tf.neg(tf.sum(tf.mul(tf.oneHot(labels, classes), tf.logSoftmax(logits)))) as tf.Scalar;
}
