// Adam's update against the paper's formulas worked by hand, and masked entries held at exactly 0.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MaskedAdam } from './adam';

describe('masked Adam', () => {
  it('takes the bias-corrected step of Kingma & Ba', async () => {
    const adam = new MaskedAdam([tf.tensor1d([1, -2])], [undefined]);
    adam.update([tf.tensor1d([0.5, 0.1])], 0.1);
    // Step 1: m̂ = g, v̂ = g², so each parameter moves by lr · sign(g) (up to ε).
    expect(Array.from(await adam.params[0].data())).toEqual([expect.closeTo(0.9, 5), expect.closeTo(-2.1, 5)]);
    adam.update([tf.tensor1d([-0.5, 0.1])], 0.1);
    // Step 2, first entry: m = 0.9·0.05 + 0.1·(−0.5) = −0.005, v = 0.999·0.00025 + 0.001·0.25 = 0.00049975.
    const mHat = -0.005 / (1 - 0.9 ** 2);
    const vHat = 0.00049975 / (1 - 0.999 ** 2);
    const expected = 0.9 - (0.1 * mHat) / (Math.sqrt(vHat) + 1e-8);
    expect((await adam.params[0].data())[0]).toBeCloseTo(expected, 5);
    expect(adam.steps).toBe(2);
    adam.dispose();
  });

  it('keeps masked entries exactly 0 whatever the gradient', async () => {
    const mask = tf.tensor1d([1, 0, 1, 0]);
    const adam = new MaskedAdam([tf.tensor1d([1, 2, 3, 4])], [mask]);
    expect(Array.from(await adam.params[0].data())).toEqual([1, 0, 3, 0]);
    for (let i = 0; i < 5; i++) {
      adam.update([tf.tensor1d([1, -7, 0.5, 3])], 0.05);
      const p = await adam.params[0].data();
      expect([p[1], p[3]]).toEqual([0, 0]);
      expect(p[0]).not.toBe(1);
    }
    adam.dispose();
    mask.dispose();
  });

  it('frees what it replaces', () => {
    const before = tf.memory().numTensors;
    const adam = new MaskedAdam([tf.ones([3, 2])], [undefined]);
    for (let i = 0; i < 3; i++) adam.update([tf.ones([3, 2])], 0.01);
    adam.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
