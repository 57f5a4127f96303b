// Exact tests of GPTQ's grid (Frantar, Ashkboos, Hoefler & Alistarh, "GPTQ: Accurate Post-Training
// Quantization for Generative Pre-trained Transformers", ICLR 2023, arXiv:2210.17323) and of round
// to nearest on it, against hand-computed values and a direct reading of the reference quantizer.
import { torchRound } from '../pruning/layer-test-support';
import { describe, expect, it } from 'vitest';
import { randomArray } from '../model/tiny-models';
import { dequant, findParams, quantCode, roundHalfEven, setParams } from './grid';
import { rtnQuantize } from './rtn';
import type { QuantizedLinear, QuantSettings } from './types';

const f32 = Math.fround;

/** scale and zero of one row's values over 4 bits (maxq 15). */
function params(values: number[], symmetric: boolean, bits = 4): [number, number] {
  const scales = new Float32Array(1);
  const zeros = new Float32Array(1);
  findParams(
    Float32Array.from(values),
    1,
    values.length,
    0,
    values.length,
    2 ** bits - 1,
    symmetric,
    scales,
    zeros,
    1,
    0,
  );
  return [scales[0], zeros[0]];
}

/** The reference quantizer read directly: min/max widened to 0, symmetric fold, ±1 rule, torch.round. */
function readParams(values: number[], bits: number, symmetric: boolean): { scale: number; zero: number } {
  const maxq = 2 ** bits - 1;
  let xmin = Math.min(0, ...values);
  let xmax = Math.max(0, ...values);
  if (symmetric) {
    xmax = Math.max(Math.abs(xmin), xmax);
    if (xmin < 0) xmin = -xmax;
  }
  if (xmin === 0 && xmax === 0) [xmin, xmax] = [-1, 1];
  const scale = f32((xmax - xmin) / maxq);
  return { scale, zero: symmetric ? (maxq + 1) / 2 : torchRound(-xmin / scale) + 0 }; // + 0: no −0 code
}

/**
 * Every weight on the grid of its group: codes integers in [0, maxq], zero points integers in
 * [0, maxq] (2^(bits−1) when symmetric), value = scale · (code − zero) exactly as stored, pruned
 * entries 0 with the zero point as code.
 */
function expectOnGrid(q: QuantizedLinear, out: number, inF: number, settings: QuantSettings): void {
  const maxq = 2 ** settings.bits - 1;
  const groups = settings.groupSize > 0 ? Math.ceil(inF / settings.groupSize) : 1;
  expect(q.groups).toBe(groups);
  expect(q.bits).toBe(settings.bits);
  expect(q.symmetric).toBe(settings.symmetric);
  expect(q.scales.length).toBe(out * groups);
  expect(q.zeros.length).toBe(out * groups);
  for (const z of q.zeros) {
    expect(Number.isInteger(z) && z >= 0 && z <= maxq).toBe(true);
    if (settings.symmetric) expect(z).toBe(2 ** (settings.bits - 1));
  }
  for (const s of q.scales) expect(s > 0 && Number.isFinite(s)).toBe(true);
  const perGroup = new Array(groups).fill(0);
  for (const g of q.groupIndex) perGroup[g]++;
  const size = settings.groupSize > 0 ? settings.groupSize : inF;
  perGroup.forEach((count, g) => {
    expect(count).toBe(Math.min(size, inF - g * size));
  });
  let bad = 0;
  for (let r = 0; r < out; r++) {
    for (let c = 0; c < inF; c++) {
      const k = r * inF + c;
      const at = r * groups + q.groupIndex[c];
      const code = q.codes[k];
      if (code > maxq) bad++;
      if (q.mask[k] === 0) {
        if (!Object.is(q.weights[k], 0) || code !== q.zeros[at]) bad++;
      } else if (q.weights[k] !== f32(q.scales[at] * (code - q.zeros[at]))) bad++;
    }
  }
  expect(bad).toBe(0);
}

describe('the grid', () => {
  it('widens the range to 0: asymmetric zero = round(−xmin/scale), symmetric zero = 2^(bits−1)', () => {
    // [−1, 0.5, 3]: range [−1, 3], 15 steps.
    expect(params([-1, 0.5, 3], false)).toEqual([f32(4 / 15), 4]); // 1 / (4/15) = 3.75
    // Symmetric: |xmin| folded onto xmax, [−3, 3].
    expect(params([-1, 0.5, 3], true)).toEqual([f32(6 / 15), 8]);
    // All-positive, asymmetric: xmin = 0, zero point 0.
    expect(params([1, 2], false)).toEqual([f32(2 / 15), 0]);
    // All-negative: xmax = 0, zero point at the top (2 / f32(2/15) = 14.9999994 → 15).
    expect(params([-2, -1], false)).toEqual([f32(2 / 15), 15]);
    // 3 bits: [−1, 0.5, 3] → scale 4/7, zero round(1.75) = 2.
    expect(params([-1, 0.5, 3], false, 3)).toEqual([f32(4 / 7), 2]);
  });

  it('gives an all-zero group the range [−1, 1]', () => {
    // Asymmetric: 1 / f32(2/15) = 7.4999996 → 7 (the float32 scale is a hair above 2/15).
    expect(params([0, 0, 0], false)).toEqual([f32(2 / 15), 7]);
    expect(params([0, 0], true)).toEqual([f32(2 / 15), 8]);
  });

  it('keeps xmin = 0 for a symmetric group with no negative value, so its top half clips (as the reference)', () => {
    const [scale, zero] = params([1, 2], true);
    expect([scale, zero]).toEqual([f32(2 / 15), 8]);
    expect(quantCode(2, scale, zero, 15)).toBe(15);
    expect(dequant(15, scale, zero)).toBe(f32(7 * scale));
  });

  it('rounds halves to even, as torch.round, and clamps codes to [0, maxq]', () => {
    expect([2.5, 3.5, -2.5, -3.5, 0.5, -0.5, 1.4999, 2.5000001].map(roundHalfEven)).toEqual([
      2, 4, -2, -4, 0, -0, 1, 3,
    ]);
    expect(quantCode(2.5, 1, 0, 15)).toBe(2);
    expect(quantCode(3.5, 1, 0, 15)).toBe(4);
    expect(quantCode(-0.5, 1, 8, 15)).toBe(8);
    expect(quantCode(100, 1, 8, 15)).toBe(15);
    expect(quantCode(-100, 1, 8, 15)).toBe(0);
    expect(quantCode(0.74, 0.25, 3, 7)).toBe(6); // round(2.96) + 3
    expect(dequant(6, 0.25, 3)).toBe(0.75);
    expect(dequant(3, 0.25, 3)).toBe(0);
  });

  it('keeps a range of a few float32 denormals on a positive scale', () => {
    const scales = new Float32Array(1);
    const zeros = new Float32Array(1);
    setParams(-(2 ** -149), 2 ** -149, 15, false, scales, zeros, 0);
    expect(scales[0]).toBe(2 ** -149);
    expect(Number.isInteger(zeros[0]) && zeros[0] >= 0 && zeros[0] <= 15).toBe(true);
  });
});

describe('round to nearest', () => {
  const out = 6;
  const inF = 200; // not a multiple of 128, 64 or 32
  const w = randomArray(out * inF, 41);

  it('puts every weight on its group grid for 8/4/3 bits, symmetric or not, per channel and groups of 128/64/32', () => {
    for (const bits of [8, 4, 3])
      for (const symmetric of [false, true])
        for (const groupSize of [0, 128, 64, 32]) {
          const settings = { bits, groupSize, symmetric, actOrder: false };
          const q = rtnQuantize(w, out, inF, settings);
          expectOnGrid(q, out, inF, settings);
          expect([...q.mask].every((v) => v === 1)).toBe(true);
          q.groupIndex.forEach((g, c) => {
            expect(g).toBe(groupSize > 0 ? Math.floor(c / groupSize) : 0);
          });
        }
  });

  /** RTN read directly from the reference: per row and group, params then clamp(round(w/scale) + zero). */
  function readRtn(rows: Float32Array, settings: QuantSettings, mask?: Uint8Array) {
    const size = settings.groupSize > 0 ? settings.groupSize : inF;
    const maxq = 2 ** settings.bits - 1;
    const codes: number[] = [];
    const values: number[] = [];
    const scales: number[] = [];
    for (let r = 0; r < out; r++) {
      for (let g0 = 0; g0 < inF; g0 += size) {
        const cols = Array.from({ length: Math.min(size, inF - g0) }, (_, i) => g0 + i);
        const kept = cols.filter((c) => !mask || mask[r * inF + c]).map((c) => rows[r * inF + c]);
        const { scale, zero } = readParams(kept, settings.bits, settings.symmetric);
        scales.push(scale);
        for (const c of cols) {
          const pruned = mask && !mask[r * inF + c];
          const code = pruned ? zero : Math.min(maxq, Math.max(0, torchRound(rows[r * inF + c] / scale) + zero));
          codes[r * inF + c] = code;
          values[r * inF + c] = pruned ? 0 : f32(scale * (code - zero));
        }
      }
    }
    return { codes, values, scales };
  }

  it('equals a direct reading of the reference quantizer', () => {
    for (const settings of [
      { bits: 4, groupSize: 0, symmetric: false, actOrder: false },
      { bits: 3, groupSize: 64, symmetric: true, actOrder: false },
      { bits: 8, groupSize: 32, symmetric: false, actOrder: false },
    ]) {
      const q = rtnQuantize(w, out, inF, settings);
      const ref = readRtn(w, settings);
      expect([...q.codes]).toEqual(ref.codes);
      expect([...q.weights]).toEqual(ref.values);
      expect([...q.scales]).toEqual(ref.scales);
    }
  });

  it('with a mask: pruned entries are exactly 0 at the zero point, params from the kept weights only', () => {
    const mask = Uint8Array.from(randomArray(out * inF, 42), (v) => (v > 0 ? 1 : 0));
    // Row 0's first group of 32: its kept weights all 0, its pruned ones large.
    const rows = Float32Array.from(w);
    for (let c = 0; c < 32; c++) rows[c] = mask[c] ? 0 : 5;
    for (const symmetric of [false, true]) {
      const settings = { bits: 4, groupSize: 32, symmetric, actOrder: false };
      const q = rtnQuantize(rows, out, inF, settings, mask);
      expectOnGrid(q, out, inF, settings);
      expect([...q.mask]).toEqual([...mask]);
      const ref = readRtn(rows, settings, mask);
      expect([...q.codes]).toEqual(ref.codes);
      expect([...q.weights]).toEqual(ref.values);
      expect(q.scales[0]).toBe(f32(2 / 15)); // the ±1 rule, not the pruned 5s
    }
  });

  it('ignores act-order: groups are consecutive columns', () => {
    const a = rtnQuantize(w, out, inF, { bits: 4, groupSize: 64, symmetric: false, actOrder: true });
    const b = rtnQuantize(w, out, inF, { bits: 4, groupSize: 64, symmetric: false, actOrder: false });
    expect(a).toEqual(b);
  });

  it('rejects bits outside 2…8, a bad group size and non-finite weights', () => {
    const s = { bits: 4, groupSize: 0, symmetric: false, actOrder: false };
    expect(() => rtnQuantize(w, out, inF, { ...s, bits: 1 })).toThrow(/bits/);
    expect(() => rtnQuantize(w, out, inF, { ...s, bits: 9 })).toThrow(/bits/);
    expect(() => rtnQuantize(w, out, inF, { ...s, groupSize: -1 })).toThrow(/groupSize/);
    expect(() => rtnQuantize(w, out, inF, { ...s, groupSize: 2.5 })).toThrow(/groupSize/);
    const nan = Float32Array.from(w);
    nan[7] = Number.NaN;
    expect(() => rtnQuantize(nan, out, inF, s)).toThrow(/finite/);
    expect(() => rtnQuantize(w, out, inF + 1, s)).toThrow(/weights/);
  });
});
