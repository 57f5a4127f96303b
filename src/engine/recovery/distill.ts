// Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural
// Network", arXiv:1503.02531): the pruned model (the student) learns to give the dense model's (the
// teacher's) output distribution, softened by a temperature, instead of the data's labels. The
// hidden states may be matched too (mean squared error per block), as intermediate-layer
// distillation does; the forward pass captures them on request.
import * as tf from '@tensorflow/tfjs';
import type { Weights } from '../model/types';

export interface DistillSettings {
  /** The dense model's weights (the caller's; read, never changed). */
  teacher: Weights;
  /** T: both distributions are softmax(logits / T); T > 1 softens them. */
  temperature: number;
  /** Weight of the hidden-state MSE added to the KL term (default 0: logits only). */
  hiddenWeight?: number;
}

/**
 * T² · KL(softmax(teacher / T) ‖ softmax(student / T)), averaged over rows (images, or positions of
 * every window), logits [..., classes]. The T² keeps the gradients' scale as T changes (Hinton et
 * al., section 2). Zero when the student's logits equal the teacher's.
 */
export function distillationLoss(student: tf.Tensor, teacher: tf.Tensor, temperature: number): tf.Scalar {
  return tf.tidy(() => {
    const classes = student.shape[student.rank - 1]!;
    const s = tf.logSoftmax(tf.div(tf.reshape(student, [-1, classes]), temperature));
    const t = tf.logSoftmax(tf.div(tf.reshape(teacher, [-1, classes]), temperature));
    const kl = tf.sum(tf.mul(tf.exp(t), tf.sub(t, s)), -1);
    return tf.mul(tf.mean(kl), temperature * temperature) as tf.Scalar;
  });
}

/** Mean over blocks of the mean squared difference of their outputs ([B, T, d] each). */
export function hiddenStateMse(student: tf.Tensor[], teacher: tf.Tensor[]): tf.Scalar {
  if (student.length !== teacher.length || student.length === 0)
    throw new Error(`hidden-state distillation: ${student.length} student blocks against ${teacher.length}`);
  return tf.tidy(() => {
    const per = student.map((s, i) => tf.mean(tf.squaredDifference(s, teacher[i])));
    return tf.div(tf.addN(per), per.length) as tf.Scalar;
  });
}
