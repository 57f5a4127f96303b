// Metrics against direct computations from the plain-TS reference forward.
import { describe, expect, it } from 'vitest';
import { evaluateClassifier, evaluateLm } from './metrics';
import { referenceForward } from '../model/reference';
import { randomArray, randomHostWeights, tinyGpt2, tinyVit } from '../model/tiny-models';
import { toTfWeights } from '../model/weights';

const logSoftmax = (row: number[]) => {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
};

describe('metrics', () => {
  it('LM loss, bits per byte, perplexity and accuracy equal a direct computation', async () => {
    const c = tinyGpt2(); // context 16
    const host = randomHostWeights(c, 4);
    const tokens = Int32Array.from({ length: 16 * 3 + 5 }, (_, i) => (i * 7 + 3) % c.vocabSize);
    let nll = 0;
    let hits = 0;
    for (let w = 0; w < 3; w++) {
      const inp = Array.from(tokens.subarray(w * 16, w * 16 + 16));
      const logits = referenceForward(c, host, inp).logits;
      logits.forEach((row, t) => {
        const target = tokens[w * 16 + t + 1];
        nll -= logSoftmax(row)[target];
        if (row.indexOf(Math.max(...row)) === target) hits++;
      });
    }
    const m = await evaluateLm(c, toTfWeights(host), tokens, tokens.length, { batchSize: 2 });
    expect(m.tokens).toBe(48);
    expect(m.loss).toBeCloseTo(nll / 48, 4);
    expect(m.perplexity).toBeCloseTo(Math.exp(nll / 48), 3);
    expect(m.bitsPerByte).toBeCloseTo(nll / 48 / Math.LN2, 4); // one token per byte
    expect(m.nextTokenAccuracy).toBeCloseTo(hits / 48, 6);
  });

  it('classifier accuracy and loss equal a direct computation, whatever the batch size', async () => {
    const c = tinyVit(); // 2×8×8 images, 5 classes
    const host = randomHostWeights(c, 6);
    const n = 7;
    const pixels = Uint8Array.from(randomArray(n * 128, 11, 0.5), (v) => Math.round((v + 0.5) * 255));
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 5);
    let correct = 0;
    let nll = 0;
    for (let i = 0; i < n; i++) {
      const x = Float32Array.from(pixels.subarray(i * 128, (i + 1) * 128), (v) => (v * 2) / 255 - 1);
      const row = referenceForward(c, host, x).logits[0];
      nll -= logSoftmax(row)[labels[i]];
      if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
    }
    const w = toTfWeights(host);
    const a = await evaluateClassifier(c, w, pixels, labels, { batchSize: 3 });
    const b = await evaluateClassifier(c, w, pixels, labels, { batchSize: 100 });
    expect(a.accuracy).toBeCloseTo(correct / n, 6);
    expect(a.loss).toBeCloseTo(nll / n, 4);
    expect(b.accuracy).toBe(a.accuracy);
    expect(b.loss).toBeCloseTo(a.loss, 5);
  });

  it('stops when its signal is aborted', async () => {
    const c = tinyVit();
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(
      evaluateClassifier(c, toTfWeights(randomHostWeights(c, 1)), new Uint8Array(128), new Uint8Array(1), { signal: ctrl.signal }),
    ).rejects.toThrow();
  });
});
