// Evaluating a token-pruned causal LM on the last position of each window, against a direct
// computation on the plain-TS reference forward pass.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { parseConfig, type Gpt2Config } from '../model/config';
import { referenceForward } from '../model/reference';
import { randomArray, randomHostWeights, TINY_GPT2_CONFIG } from '../model/tiny-models';
import { toTfWeights } from '../model/weights';
import { evaluateLmLastPosition } from './last-position';

await tf.setBackend('cpu');

const gpt = parseConfig({ ...TINY_GPT2_CONFIG, n_layer: 3 }) as Gpt2Config;
const gptHost = randomHostWeights(gpt, 11, 0.5);
const gptWeights = toTfWeights(gptHost);

describe('evaluating a token-pruned LM', () => {
  it('scores the last position of each window; dense equals a direct computation', async () => {
    const tokens = Int32Array.from(randomArray(60, 41), (x) => Math.floor((x + 1) * 18.4));
    const r = await evaluateLmLastPosition(gpt, gptWeights, tokens, { context: 10, stride: 7 });
    expect(r.windows).toBe(Math.floor((60 - 10 - 1) / 7) + 1);
    let nll = 0;
    for (let w = 0; w < r.windows; w++) {
      const ctx = Array.from(tokens.subarray(w * 7, w * 7 + 10));
      const logits = referenceForward(gpt, gptHost, ctx).logits[9];
      const max = Math.max(...logits);
      const lse = max + Math.log(logits.reduce((a, v) => a + Math.exp(v - max), 0));
      nll += lse - logits[tokens[w * 7 + 10]];
    }
    expect(r.loss).toBeCloseTo(nll / r.windows, 4);
    // One byte per token by default; the bits are per byte of the predicted tokens.
    expect(r.bitsPerByte).toBeCloseTo(nll / r.windows / Math.LN2, 4);
    const twoBytes = await evaluateLmLastPosition(gpt, gptWeights, tokens, {
      context: 10,
      stride: 7,
      tokenBytes: () => 2,
    });
    expect(twoBytes.bitsPerByte).toBeCloseTo(r.bitsPerByte / 2, 6);
    const pruned = await evaluateLmLastPosition(gpt, gptWeights, tokens, {
      context: 10,
      stride: 7,
      tokenKeep: [1, 0.5, 0.5],
    });
    expect(pruned.windows).toBe(r.windows);
    expect(pruned.loss).not.toBe(r.loss);
  });
});
