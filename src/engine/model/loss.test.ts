// The cross-entropy's written-out gradient is the one the tape gives the same formula op by op, on
// the CPU and WASM backends (whose OneHot kernel once dropped the labels from it).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { crossEntropySum } from './loss';
import { maxAbsDiff, randomArray } from './tiny-models';

describe('crossEntropySum', () => {
  for (const backend of ['cpu', 'wasm'])
    it(`has the value and gradient of −Σ onehot ⊙ log softmax differentiated op by op (${backend})`, async () => {
      await tf.setBackend(backend);
      try {
        const classes = 11;
        // Spread over ±40: a softmax near one-hot in some rows, flat in others.
        const logits = tf.tensor2d(randomArray(7 * classes, 3, 40), [7, classes]);
        const labels = tf.tensor1d(Int32Array.from([0, 10, 3, 3, 7, 1, 5]), 'int32');
        const opByOp = (z: tf.Tensor) =>
          tf.neg(tf.sum(tf.mul(tf.oneHot(labels, classes), tf.logSoftmax(z)))) as tf.Scalar;
        const before = tf.memory().numTensors;
        const expected = tf.valueAndGrad(opByOp)(logits);
        const got = tf.valueAndGrad((z: tf.Tensor) => tf.mul(crossEntropySum(z, labels, classes), 1) as tf.Scalar)(
          logits,
        );
        expect((await got.value.data())[0]).toBeCloseTo((await expected.value.data())[0], 4);
        // Each row's gradient sums to 0 and is −(1 − p) at its label: the labels are in it.
        expect(maxAbsDiff(await got.grad.data(), await expected.grad.data())).toBeLessThan(1e-6);
        tf.dispose([expected.value, expected.grad, got.value, got.grad]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([logits, labels]);
      } finally {
        await tf.setBackend('cpu');
      }
    });
});
