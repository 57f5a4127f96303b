import { describe, expect, it } from 'vitest';
import {
  layerDetailData,
  layerThreshold,
  linearHistogram,
  logHistogram,
  maskImage,
  structuralWeightMask,
} from './layer-detail';
import { keepCount, rowTopKMask, topKMask } from '../pruning/select';
import { nmMask } from '../pruning/nm';
import { linearSpecs } from '../model/schema';
import { randomArray, randomHostWeights, tinyGpt2, tinyVit } from '../model/tiny-models';

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

describe('layerThreshold', () => {
  it('reads the exact threshold off a layer-wise mask', () => {
    expect(layerThreshold([0.1, 0.5, 0.3, 0.9], [0, 1, 0, 1], 2, 2, 'layer')).toEqual({
      kind: 'single',
      value: 0.5,
      largestRemoved: 0.3,
      tiedRemoved: 0,
    });
    // Whatever the scores, top-k selection leaves exactly the k-th best score as the threshold.
    const scores = randomArray(600, 3).map(Math.abs);
    const mask = topKMask(scores, keepCount(600, 0.7));
    const t = layerThreshold(scores, mask, 20, 30, 'layer');
    const kth = [...scores].sort((a, b) => b - a)[keepCount(600, 0.7) - 1];
    expect(t).toMatchObject({ kind: 'single', value: kth, tiedRemoved: 0 });
  });

  it('counts ties at the threshold that were removed by position', () => {
    const scores = [1, 1, 1, 2];
    const mask = topKMask(scores, 2); // keeps 2 and the first 1
    expect([...mask]).toEqual([1, 0, 0, 1]);
    expect(layerThreshold(scores, mask, 1, 4, 'layer')).toEqual({
      kind: 'single',
      value: 1,
      largestRemoved: 1,
      tiedRemoved: 2,
    });
  });

  it('says when nothing or everything is removed', () => {
    expect(layerThreshold([3, 1, 2, 4], [1, 1, 1, 1], 2, 2, 'layer')).toEqual({
      kind: 'none',
      reason: 'nothing removed',
    });
    expect(layerThreshold([3, 1, 2, 4], [0, 0, 0, 0], 2, 2, 'row')).toEqual({
      kind: 'none',
      reason: 'everything removed',
    });
  });

  it('gives per-row thresholds for a row-wise mask, and says one layer threshold would not match it', () => {
    const scores = [1, 2, 3, 4, 10, 20, 30, 40];
    const mask = rowTopKMask(scores, 2, 4, 2);
    expect(layerThreshold(scores, mask, 2, 4, 'row')).toEqual({
      kind: 'per-row',
      median: 16.5,
      q1: 9.75,
      q3: 23.25,
      min: 3,
      max: 30,
      rows: 2,
      mixedRows: 0,
    });
    // As one layer: a threshold removing 4 would sit at 10 and remove the kept 3 and 4.
    expect(layerThreshold(scores, mask, 2, 4, 'layer')).toEqual({
      kind: 'mixed',
      quantile: 10,
      differ: 2,
      smallestKept: 3,
      largestRemoved: 20,
    });
  });

  it('calls an N:M mask mixed', () => {
    const scores = Float32Array.from([4, 3, 2, 1, 0.4, 0.3, 0.2, 0.1]);
    const t = layerThreshold(scores, nmMask(scores, 1, 8, 2, 4), 1, 8, 'layer');
    expect(t).toMatchObject({ kind: 'mixed', differ: 2 });
  });

  it('rejects a mask of the wrong size', () => {
    expect(() => layerThreshold([1, 2], [1], 1, 2, 'layer')).toThrow(/1 mask entries/);
  });
});

describe('histograms', () => {
  it('bins scores on a log scale, zeros apart, split by the mask', () => {
    const h = logHistogram([0, 1, 5, 100], [1, 0, 1, 0], 2);
    expect(h.edges[0]).toBe(1);
    expect(h.edges[2]).toBe(100);
    expect(h.edges[1]).toBeCloseTo(10, 10);
    expect(h.kept).toEqual([1, 0]);
    expect(h.removed).toEqual([1, 1]);
    expect(h.zeros).toEqual({ kept: 1, removed: 0 });
  });

  it('gives one visible bin to a single value, and none when no score is positive', () => {
    const one = logHistogram([2, 2, 2], [1, 1, 0], 4);
    expect(one.edges[0]).toBe(1);
    expect(one.edges[4]).toBe(4);
    expect(sum(one.kept)).toBe(2);
    expect(sum(one.removed)).toBe(1);
    expect(logHistogram([0, 0], [1, 0])).toEqual({
      scale: 'log',
      edges: [],
      kept: [],
      removed: [],
      zeros: { kept: 1, removed: 1 },
    });
  });

  it('bins signed weights symmetrically about zero, every value counted once', () => {
    const w = randomArray(500, 9);
    const mask = Uint8Array.from(w, (v) => (Math.abs(v) > 0.5 ? 1 : 0));
    const h = linearHistogram(w, mask, 10);
    const a = Math.max(...[...w].map(Math.abs));
    expect(h.edges[0]).toBe(-a);
    expect(h.edges[10]).toBe(a);
    expect(sum(h.kept) + sum(h.removed)).toBe(500);
    expect(sum(h.kept)).toBe(mask.reduce((x, v) => x + v, 0));
    // |w| ≤ 0.5 removed: the middle bins hold no kept weights.
    expect(h.kept.slice(3, 7)).toEqual([0, 0, 0, 0]);
  });
});

describe('maskImage', () => {
  it('keeps a small matrix as it is', () => {
    const img = maskImage([1, 0, 0, 1, 1, 1], 2, 3);
    expect(img).toMatchObject({ width: 3, height: 2, rows: 2, cols: 3 });
    expect([...img.data]).toEqual([255, 0, 0, 255, 255, 255]);
  });

  it('shows a large matrix as the share kept per cell', () => {
    // 4×4, one cell per 2×2 block: fully kept, half, a quarter, none.
    const m = [1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    expect([...maskImage(m, 4, 4, 2).data]).toEqual([255, 128, 64, 0]);
  });
});

describe('structuralWeightMask', () => {
  it('removes a ViT head as its query rows and its attention-output columns', () => {
    const c = tinyVit(); // d = 12, 3 heads of 4
    const host = randomHostWeights(c, 1);
    const specs = linearSpecs(c).filter((s) => s.layer === 0);
    const masks = {
      heads: [
        [1, 0, 1],
        [1, 1, 1],
      ],
    };
    const q = structuralWeightMask(c, host, specs.find((s) => s.role === 'q')!, masks); // [out 12, in 12]
    for (let o = 0; o < 12; o++) for (let i = 0; i < 12; i++) expect(q[o * 12 + i]).toBe(o >= 4 && o < 8 ? 0 : 1);
    const out = structuralWeightMask(c, host, specs.find((s) => s.role === 'attn_out')!, masks);
    for (let o = 0; o < 12; o++) for (let i = 0; i < 12; i++) expect(out[o * 12 + i]).toBe(i >= 4 && i < 8 ? 0 : 1);
    // Block 1 keeps every head; a removed FFN sublayer takes all of its weights.
    const later = linearSpecs(c).find((s) => s.layer === 1 && s.role === 'ffn_in')!;
    expect(structuralWeightMask(c, host, later, masks).every((v) => v === 1)).toBe(true);
    expect(structuralWeightMask(c, host, later, { mlp: [true, false] }).every((v) => v === 0)).toBe(true);
  });

  it('removes GPT-2 neurons as c_fc columns ([in, out] storage)', () => {
    const c = tinyGpt2(); // d = 16, inner 24
    const host = randomHostWeights(c, 2);
    const fc = linearSpecs(c).find((s) => s.layer === 0 && s.role === 'ffn_in')!;
    const neurons = [Array.from({ length: 24 }, (_, j) => (j % 3 === 0 ? 0 : 1)), Array(24).fill(1)];
    const m = structuralWeightMask(c, host, fc, { neurons });
    for (let i = 0; i < 16; i++) for (let j = 0; j < 24; j++) expect(m[i * 24 + j]).toBe(j % 3 === 0 ? 0 : 1);
  });
});

describe('layerDetailData', () => {
  it('puts it together in the [out, in] view whatever the storage layout', () => {
    const c = tinyGpt2();
    const spec = linearSpecs(c).find((s) => s.layer === 1 && s.role === 'attn_out')!; // [in 16, out 16], Conv1D
    const w = randomArray(256, 5);
    const scores = w.map(Math.abs);
    // Remove input feature 0 of every output: row 0 of the [in, out] storage.
    const mask = Uint8Array.from(w, (_, k) => (k < 16 ? 0 : 1));
    const d = layerDetailData(spec, w, scores, mask, 'layer');
    expect(d.kept).toBe(240);
    expect(d.removed).toBe(16);
    expect(sum(d.weights.kept)).toBe(240);
    // In the image, rows are outputs and columns inputs: column 0 is black.
    for (let o = 0; o < 16; o++) expect(d.mask.data[o * 16]).toBe(0);
    expect(d.mask.data[1]).toBe(255);
    expect(layerDetailData(spec, w, scores, null, 'row').threshold).toEqual({
      kind: 'none',
      reason: 'nothing removed',
    });
  });
});
