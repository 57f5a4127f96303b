// The training loss both architectures share: cross-entropy over class or vocabulary logits.
import * as tf from '@tensorflow/tfjs';

/**
 * Σ over rows of −log softmax(logits)[label]: logits [n, classes], labels int32 [n]. Its gradient,
 * (softmax(logits) − onehot(label))·dy, is written out: differentiated op by op, the tape would keep
 * the one-hot labels, their float copy, the log-softmax and its product, each [n, classes] — at
 * GPT-2's vocabulary of 50,257, 0.2 MB a token each, the most a training step holds. The one-hot is
 * made as int32 and cast: asked for float32 directly, the WASM backend's OneHot writes int32 ones
 * under a float32 label, which read as 1.4e-45, and the gradient loses its labels.
 */
export function crossEntropySum(logits: tf.Tensor, labels: tf.Tensor, classes: number): tf.Scalar {
  const f = (z: tf.Tensor, save: tf.GradSaveFunc) => {
    save([z]);
    return {
      value: tf.neg(tf.sum(tf.mul(tf.oneHot(labels, classes), tf.logSoftmax(z)))),
      gradFunc: (dy: tf.Tensor, [z]: tf.Tensor[]) =>
        tf.tidy(() => tf.mul(tf.sub(tf.softmax(z), tf.cast(tf.oneHot(labels, classes), 'float32')), dy)),
    };
  };
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0])(logits) as tf.Scalar;
}
