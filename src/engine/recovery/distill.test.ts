// The distillation terms against values computed by hand.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distillationLoss, hiddenStateMse } from './distill';

describe('distillation loss', () => {
  it('is zero when the student gives the teacher’s logits', async () => {
    const logits = tf.tensor3d([
      [
        [1, 2, 3],
        [0.5, -1, 4],
      ],
    ]);
    const loss = distillationLoss(logits, logits, 2);
    expect(Math.abs((await loss.data())[0])).toBeLessThan(1e-6);
    tf.dispose([logits, loss]);
  });

  it('is T² · KL(teacher ‖ student) of the softened distributions, averaged over rows', async () => {
    const student = tf.tensor2d([
      [0, 0],
      [1, 0],
    ]);
    const teacher = tf.tensor2d([
      [2, 0],
      [1, 0],
    ]);
    const t = 2;
    // Row 1 at T = 2: teacher softmax([1, 0]) against the uniform student; row 2: equal, 0.
    const p = [Math.E / (Math.E + 1), 1 / (Math.E + 1)];
    const kl = p[0] * Math.log(p[0] / 0.5) + p[1] * Math.log(p[1] / 0.5);
    const loss = distillationLoss(student, teacher, t);
    expect((await loss.data())[0]).toBeCloseTo((t * t * kl) / 2, 6);
    tf.dispose([student, teacher, loss]);
  });

  it('hidden-state MSE is the mean over blocks of each block’s mean squared difference', async () => {
    const s = [tf.tensor3d([[[1, 2]]]), tf.tensor3d([[[0, 0]]])];
    const h = [tf.tensor3d([[[1, 0]]]), tf.tensor3d([[[3, 1]]])];
    const mse = hiddenStateMse(s, h);
    expect((await mse.data())[0]).toBeCloseTo((2 + 5) / 2, 6);
    tf.dispose([...s, ...h, mse]);
  });
});
