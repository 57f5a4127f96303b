// Metrics against direct computations from the plain-TS reference forward.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifierBatch, evaluateClassifier, evaluateLm, RunningMean, type PartialMetrics } from './metrics';
import { referenceForward } from '../model/reference';
import { parseConfig, type VitConfig } from '../model/config';
import { randomArray, randomHostWeights, tinyGpt2, tinyVit } from '../model/tiny-models';
import { toTfWeights } from '../model/weights';

const logSoftmax = (row: number[]) => {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
};

/** The tiny ViT (weights of seed 6) and 8 random images of 5 classes, the pixels drawn from `seed`. */
function eightImages(seed: number) {
  const c = tinyVit();
  const n = 8;
  return {
    c,
    w: toTfWeights(randomHostWeights(c, 6)),
    n,
    pixels: Uint8Array.from(randomArray(n * 128, seed, 0.5), (v) => Math.round((v + 0.5) * 255)),
    labels: Uint8Array.from({ length: n }, (_, i) => (i * 3) % 5),
  };
}

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
      evaluateClassifier(c, toTfWeights(randomHostWeights(c, 1)), new Uint8Array(128), new Uint8Array(1), {
        signal: ctrl.signal,
      }),
    ).rejects.toThrow();
  });

  it('streams partial classifier metrics: the last is the result, the k-th is the first k batches evaluated alone', async () => {
    const { c, w, n, pixels, labels } = eightImages(12);
    const partials: PartialMetrics[] = [];
    const full = await evaluateClassifier(c, w, pixels, labels, { batchSize: 3, onPartial: (p) => partials.push(p) });
    expect(partials.map((p) => p.seen)).toEqual([3, 6, 8]);
    expect(partials.every((p) => p.total === n)).toBe(true);
    expect(partials.at(-1)!.metric).toEqual(full);
    expect(partials.at(-1)!.stderr).toBe(0);
    for (const p of partials) {
      const seen = p.seen;
      const alone = await evaluateClassifier(c, w, pixels.subarray(0, seen * 128), labels.subarray(0, seen), {
        batchSize: 3,
      });
      expect(p.metric).toEqual(alone);
      // A Bernoulli per image: s² = n/(n−1)·a(1−a).
      const a = alone.accuracy;
      expect(p.stderr).toBeCloseTo(Math.sqrt(((a * (1 - a)) / (seen - 1)) * (1 - seen / n)), 12);
    }
  });

  it('a small first classifier batch gives the first estimate sooner and the same result', async () => {
    const { c, w, pixels, labels } = eightImages(13);
    const full = await evaluateClassifier(c, w, pixels, labels, { batchSize: 3 });
    const partials: PartialMetrics[] = [];
    const sooner = await evaluateClassifier(c, w, pixels, labels, {
      batchSize: 3,
      firstBatchSize: 2,
      onPartial: (p) => partials.push(p),
    });
    expect(partials.map((p) => p.seen)).toEqual([2, 5, 8]);
    expect(sooner.accuracy).toBe(full.accuracy);
    expect(sooner.loss).toBeCloseTo(full.loss, 5);
  });

  it('streams partial LM metrics: the last is the result, the k-th is the first k batches of windows evaluated alone', async () => {
    const c = tinyGpt2(); // context 16
    const w = toTfWeights(randomHostWeights(c, 4));
    const tokens = Int32Array.from({ length: 16 * 5 + 3 }, (_, i) => (i * 11 + 5) % c.vocabSize);
    const partials: PartialMetrics[] = [];
    const full = await evaluateLm(c, w, tokens, tokens.length, { batchSize: 2, onPartial: (p) => partials.push(p) });
    expect(partials.map((p) => p.seen)).toEqual([2, 4, 5]);
    expect(partials.at(-1)!.metric).toEqual(full);
    expect(partials.at(-1)!.stderr).toBe(0);
    for (const p of partials.slice(0, -1)) {
      const prefix = tokens.subarray(0, p.seen * 16 + 1);
      const alone = await evaluateLm(c, w, prefix, prefix.length, { batchSize: 2 });
      expect(p.metric.kind).toBe('lm');
      if (p.metric.kind !== 'lm') continue;
      expect(p.metric.tokens).toBe(alone.tokens);
      expect(p.metric.loss).toBe(alone.loss);
      expect(p.metric.nextTokenAccuracy).toBe(alone.nextTokenAccuracy);
      expect(p.metric.bitsPerByte).toBeCloseTo(alone.bitsPerByte, 10);
      expect(p.stderr).toBeGreaterThan(0);
    }
    // A first batch of one window: the first estimate a batch sooner, the same result.
    const sooner: PartialMetrics[] = [];
    const again = await evaluateLm(c, w, tokens, tokens.length, {
      batchSize: 2,
      firstBatchSize: 1,
      onPartial: (p) => sooner.push(p),
    });
    expect(sooner.map((p) => p.seen)).toEqual([1, 3, 5]);
    expect(again.loss).toBeCloseTo(full.loss, 6);
    expect(again.tokens).toBe(full.tokens);
  });

  it('sizes image batches by their widest activation', () => {
    const vit = (over: Record<string, unknown>) =>
      parseConfig({
        ...JSON.parse(readFileSync('public/models/vit-fashion/config.json', 'utf8')),
        ...over,
      }) as VitConfig;
    expect(classifierBatch(vit({}))).toBe(120); // 17 tokens × 256 FFN values an image
    expect(classifierBatch(tinyVit())).toBe(250); // the cap
    // ViT-Base: 197 tokens × 3,072 FFN values an image, 2.4 MB: one image a batch.
    const base = vit({ image_size: 224, patch_size: 16, num_channels: 3, hidden_size: 768, intermediate_size: 3072 });
    expect(classifierBatch({ ...base, numHeads: 12 })).toBe(1);
  });

  it('RunningMean: the finite-population-corrected standard error of the mean', () => {
    const xs = [1, 0, 1, 1, 0, 1];
    const m = new RunningMean();
    for (const x of xs) m.add(x);
    const mean = 4 / 6;
    const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / 5;
    expect(m.stderr(20)).toBeCloseTo(Math.sqrt((variance / 6) * (1 - 6 / 20)), 12);
    expect(m.stderr(6)).toBe(0);
    const one = new RunningMean();
    one.add(1);
    expect(one.stderr(10)).toBeNaN();
  });
});
