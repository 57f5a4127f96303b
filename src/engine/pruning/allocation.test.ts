// Layer-wise allocations: OWL against a direct reading of the authors' rule, and the sensitivity
// split meeting its target exactly.
import { describe, expect, it } from 'vitest';
import { outlierRatio, owlAllocation, sensitivityAllocation } from './allocation';

describe('OWL', () => {
  it('counts the share of a block’s scores above M × their mean, in %', () => {
    // Mean 1.9; with M = 2 the limit is 3.8: only the 10 is an outlier.
    expect(outlierRatio([Float32Array.from([1, 1, 1, 1]), Float32Array.from([1, 1, 1, 1, 1, 10])], 2)).toBeCloseTo(10);
    expect(outlierRatio([Float32Array.from([1, 1, 1, 1, 1, 10])], 5)).toBe(0); // mean 2.5, limit 12.5
  });

  it('rescales the ratios to [0, 2λ] around 1 − target, as the reference does', () => {
    const ratios = [2, 4, 6, 10];
    const lambda = 0.08;
    const target = 0.5;
    // Direct reading of prune_wanda_outlier: scaled = (r − min)/(max − min)·2λ; keep = scaled − mean + (1 − target).
    const scaled = ratios.map((r) => ((r - 2) / 8) * 2 * lambda);
    const mean = scaled.reduce((a, v) => a + v, 0) / 4;
    const expected = scaled.map((v) => 1 - (v - mean + 1 - target));
    const got = owlAllocation(ratios, target, lambda);
    got.forEach((s, i) => {
      expect(s).toBeCloseTo(expected[i], 12);
    });
    // The mean sparsity is the target; more outliers, less sparsity.
    expect(got.reduce((a, v) => a + v, 0) / 4).toBeCloseTo(target, 12);
    expect(got[3]).toBeLessThan(got[0]);
    expect(got[0] - got[3]).toBeCloseTo(2 * lambda, 12);
  });

  it('sets a block at or below 0 sparsity to 0.01, refuses one it would prune entirely, and splits equal ratios evenly', () => {
    expect(owlAllocation([0, 10], 0.05, 0.1)).toEqual([0.15000000000000002, 0.01]);
    expect(() => owlAllocation([0, 10], 0.95, 0.1)).toThrow(/would prune all of block 1/);
    expect(owlAllocation([3, 3, 3], 0.6, 0.08)).toEqual([0.6, 0.6, 0.6].map((v) => 1 - (0.08 - 0.08 + 1 - v)));
  });
});

describe('sensitivity allocation', () => {
  it('meets the target exactly, raising first the block whose loss rises least per weight', () => {
    const grid = [0, 0.25, 0.5, 0.75];
    const curves = [
      { layer: 0, sparsities: grid, losses: [1, 1.5, 2.5, 4] },
      { layer: 1, sparsities: grid, losses: [1, 1.01, 1.05, 1.2] },
    ];
    const s = sensitivityAllocation(curves, [100, 100], 0.4, 0.05, 0.75);
    expect((s[0] * 100 + s[1] * 100) / 200).toBeCloseTo(0.4, 9);
    expect(s[1]).toBeGreaterThan(s[0]);
  });
});
