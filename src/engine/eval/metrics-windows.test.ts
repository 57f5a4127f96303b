// evaluateLm's windows: a stride below the window scores each target once, a count of windows
// stops early, and bits per byte divides by the UTF-8 bytes of the targets scored.
import { describe, expect, it } from 'vitest';
import { evaluateLm, lmWindowCount } from './metrics';
import { referenceForward } from '../model/reference';
import { randomHostWeights, tinyGpt2 } from '../model/tiny-models';
import { toTfWeights } from '../model/weights';

const logSoftmax = (row: number[]) => {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
};

describe('evaluateLm windows', () => {
  const c = tinyGpt2(); // context 16
  const host = randomHostWeights(c, 11);
  const tokens = Int32Array.from({ length: 41 }, (_, i) => (i * 5 + 2) % c.vocabSize);

  it('counts the windows a text holds', () => {
    expect(lmWindowCount(41, 16)).toBe(2); // (41 − 1) / 16, rounded down
    expect(lmWindowCount(41, 16, 8)).toBe(4); // starts 0, 8, 16, 24
    expect(lmWindowCount(41, 16, 8, 3)).toBe(3);
    expect(lmWindowCount(16, 16)).toBe(0);
    expect(lmWindowCount(17, 16)).toBe(1);
  });

  it('with a stride of half the window, every target is scored once, by the window with most context', async () => {
    // Windows start at 0, 8, 16, 24; the first scores targets 1..16, each later one its last 8.
    let nll = 0;
    let scored = 0;
    const bytesOf = (id: number) => 1 + (id % 3); // a stand-in tokenizer: 1 to 3 bytes a token
    let bytes = 0;
    for (const [start, from] of [
      [0, 0],
      [8, 8],
      [16, 8],
      [24, 8],
    ]) {
      const logits = referenceForward(c, host, Array.from(tokens.subarray(start, start + 16))).logits;
      for (let j = from; j < 16; j++) {
        const target = tokens[start + j + 1];
        nll -= logSoftmax(logits[j])[target];
        bytes += bytesOf(target);
        scored++;
      }
    }
    expect(scored).toBe(40);
    const m = await evaluateLm(c, toTfWeights(host), tokens, 999, { stride: 8, batchSize: 3, tokenBytes: bytesOf });
    expect(m.tokens).toBe(40);
    expect(m.loss).toBeCloseTo(nll / 40, 4);
    expect(m.bitsPerByte).toBeCloseTo(nll / Math.LN2 / bytes, 4);
  });

  it('stops after maxWindows, and a window shorter than the context reads only that many tokens', async () => {
    const logits = referenceForward(c, host, Array.from(tokens.subarray(0, 6))).logits;
    const nll = logits.reduce((a, row, j) => a - logSoftmax(row)[tokens[j + 1]], 0);
    const m = await evaluateLm(c, toTfWeights(host), tokens, tokens.length, { context: 6, maxWindows: 1 });
    expect(m.tokens).toBe(6);
    expect(m.loss).toBeCloseTo(nll / 6, 4);
  });
});
