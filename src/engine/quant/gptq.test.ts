// Tests of GPTQ (Frantar, Ashkboos, Hoefler & Alistarh, "GPTQ: Accurate Post-Training Quantization
// for Generative Pre-trained Transformers", ICLR 2023, arXiv:2210.17323) and of SparseGPT's joint
// pruning + quantization, which share one column sweep: against a direct, unoptimised reading of
// the algorithm, against each other, against round to nearest, and on adversarial layers.
import { calibration, gaussJordanInverse, gramOf, outputError, torchRound } from '../pruning/layer-test-support';
import { describe, expect, it } from 'vitest';
import { randomArray } from '../model/tiny-models';
import { magnitudeScores } from '../pruning/magnitude';
import { rowTopKMask } from '../pruning/select';
import { sparseGpt } from '../pruning/sparsegpt';
import { wandaScores } from '../pruning/wanda';
import { gptq } from './gptq';
import { rtnQuantize } from './rtn';
import type { QuantizedLinear, QuantSettings } from './types';

const f32 = Math.fround;
const settingsOf = (bits: number, groupSize: number, symmetric: boolean, actOrder: boolean): QuantSettings => ({
  bits,
  groupSize,
  symmetric,
  actOrder,
});

/** Upper U with A = UᵀU, by the textbook row-by-row recurrence. */
function upperFactor(a: number[][]): number[][] {
  const n = a.length;
  const u = a.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    let d = a[i][i];
    for (let k = 0; k < i; k++) d -= u[k][i] ** 2;
    u[i][i] = Math.sqrt(d);
    for (let j = i + 1; j < n; j++) {
      let s = a[i][j];
      for (let k = 0; k < i; k++) s -= u[k][i] * u[k][j];
      u[i][j] = s / u[i][i];
    }
  }
  return u;
}

/**
 * GPTQ read directly: H = 2·gram, dead inputs zeroed, act-order by decreasing diag(H), 1% damping,
 * U = the upper Cholesky factor of H⁻¹; then one column at a time, no lazy blocks: at a group's
 * first column its params from the current weights of its columns (kept entries only, with a
 * mask), each weight rounded (masked: 0), the error (w − q)/Uᵢᵢ subtracted along row i of U.
 */
function readGptq(rows: Float32Array, out: number, n: number, gram: Float64Array, s: QuantSettings, mask?: Uint8Array) {
  const maxq = 2 ** s.bits - 1;
  const h = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => 2 * gram[i * n + j]));
  const w = Array.from({ length: out }, (_, r) => Array.from(rows.subarray(r * n, r * n + n)));
  for (let i = 0; i < n; i++)
    if (h[i][i] === 0) {
      h[i][i] = 1;
      for (const row of w) row[i] = 0;
    }
  const order = Array.from({ length: n }, (_, i) => i);
  if (s.actOrder) order.sort((a, b) => h[b][b] - h[a][a] || a - b);
  const hp = order.map((i) => order.map((j) => h[i][j]));
  const damp = (0.01 * hp.reduce((acc, row, i) => acc + row[i], 0)) / n;
  hp.forEach((row, i) => {
    row[i] += damp;
  });
  const u = upperFactor(gaussJordanInverse(hp));
  const wp = w.map((row) => order.map((c) => row[c]));
  const kept = (r: number, i: number) => !mask || mask[r * n + order[i]] === 1;
  const size = s.groupSize > 0 ? s.groupSize : n;
  const scale: number[] = [];
  const zero: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % size === 0) {
      for (let r = 0; r < out; r++) {
        const vals = wp[r].slice(i, i + size).filter((_, k) => kept(r, i + k));
        let xmin = Math.min(0, ...vals);
        let xmax = Math.max(0, ...vals);
        if (s.symmetric) {
          xmax = Math.max(-xmin, xmax);
          if (xmin < 0) xmin = -xmax;
        }
        if (xmin === 0 && xmax === 0) [xmin, xmax] = [-1, 1];
        scale[r] = f32((xmax - xmin) / maxq);
        zero[r] = s.symmetric ? (maxq + 1) / 2 : torchRound(-xmin / scale[r]);
      }
    }
    for (let r = 0; r < out; r++) {
      const wi = wp[r][i];
      const code = Math.min(maxq, Math.max(0, torchRound(wi / scale[r]) + zero[r]));
      const q = kept(r, i) ? f32(scale[r] * (code - zero[r])) : 0;
      const e = (wi - q) / u[i][i];
      for (let j = i; j < n; j++) wp[r][j] -= e * u[i][j];
      wp[r][i] = q;
    }
  }
  const res = new Float32Array(out * n);
  const groupIndex = new Int32Array(n);
  order.forEach((c, i) => {
    for (let r = 0; r < out; r++) res[r * n + c] = wp[r][i];
    groupIndex[c] = Math.floor(i / size);
  });
  return { weights: res, groupIndex };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Every weight on its group's grid; pruned entries exactly 0 at the zero point. */
function expectOnGrid(q: QuantizedLinear, out: number, inF: number, s: QuantSettings): void {
  const maxq = 2 ** s.bits - 1;
  const groups = s.groupSize > 0 ? Math.ceil(inF / s.groupSize) : 1;
  expect(q.groups).toBe(groups);
  expect(q.scales.length).toBe(out * groups);
  for (const z of q.zeros) expect(Number.isInteger(z) && z >= 0 && z <= maxq).toBe(true);
  if (s.symmetric) for (const z of q.zeros) expect(z).toBe(2 ** (s.bits - 1));
  for (const sc of q.scales) expect(sc > 0 && Number.isFinite(sc)).toBe(true);
  for (const g of q.groupIndex) expect(g >= 0 && g < groups).toBe(true);
  let bad = 0;
  for (let r = 0; r < out; r++)
    for (let c = 0; c < inF; c++) {
      const k = r * inF + c;
      const at = r * groups + q.groupIndex[c];
      if (q.codes[k] > maxq) bad++;
      if (q.mask[k] === 0) {
        if (!Object.is(q.weights[k], 0) || q.codes[k] !== q.zeros[at]) bad++;
      } else if (q.weights[k] !== f32(q.scales[at] * (q.codes[k] - q.zeros[at]))) bad++;
    }
  expect(bad).toBe(0);
}

const sum = (m: Uint8Array) => m.reduce((a, v) => a + v, 0);

/** Heavy-tailed weights (a few large ones per row), as trained transformer layers have. */
function heavyTailed(n: number, seed: number): Float32Array {
  const [a, b, c, u] = [0, 1, 2, 3].map((k) => randomArray(n, seed + 1000 * k));
  return Float32Array.from(a, (v, i) => ((v + b[i] + c[i]) / 2) * Math.exp(1.5 * u[i]));
}

describe('GPTQ', () => {
  const out = 10;
  const inF = 200; // two lazy blocks of 128; not a multiple of 128, 64 or 32
  const tokens = 400;
  const w = randomArray(out * inF, 51);
  const x = calibration(tokens, inF, 52);
  const gram = gramOf(x, tokens, inF);
  const err = (wHat: Float32Array) => outputError(w, wHat, x, out, inF);

  it('puts every weight on its group grid for 8/4/3 bits, symmetric or not, per channel and groups of 128/64/32', () => {
    for (const bits of [8, 4, 3])
      for (const symmetric of [false, true])
        for (const groupSize of [0, 128, 64, 32]) {
          const s = settingsOf(bits, groupSize, symmetric, groupSize === 64);
          const q = gptq(w, out, inF, gram, s);
          expectOnGrid(q, out, inF, s);
          expect(sum(q.mask)).toBe(out * inF);
        }
  });

  it('equals a direct sequential reading (one column at a time, no lazy blocks) within 1e-4, with and without groups and act-order', () => {
    for (const s of [
      settingsOf(4, 0, false, false),
      settingsOf(4, 0, true, true),
      settingsOf(3, 32, false, false),
      settingsOf(4, 64, true, true),
      settingsOf(3, 96, false, false), // groups straddle the lazy blocks of 128
      settingsOf(4, 96, false, true),
      settingsOf(8, 128, true, false),
    ]) {
      const q = gptq(w, out, inF, gram, s);
      const ref = readGptq(w, out, inF, gram, s);
      expect(maxAbsDiff(q.weights, ref.weights)).toBeLessThan(1e-4);
      expect([...q.groupIndex]).toEqual([...ref.groupIndex]);
    }
  });

  it('does not depend on the lazy block size', () => {
    const s = settingsOf(4, 48, false, true);
    const a = sparseGpt(w, out, inF, gram, { sparsity: 0, quant: s }).quantized!;
    for (const blockSize of [1, 7, 32, 200]) {
      const b = sparseGpt(w, out, inF, gram, { sparsity: 0, quant: s, blockSize }).quantized!;
      expect([...b.codes]).toEqual([...a.codes]);
      expect(maxAbsDiff(a.weights, b.weights)).toBeLessThan(1e-6);
    }
  });

  it('with act-order visits columns by decreasing diag(H) and groups them in that order', () => {
    const s = settingsOf(4, 32, false, true);
    const q = gptq(w, out, inF, gram, s);
    const order = Array.from({ length: inF }, (_, i) => i).sort((a, b) => gram[b * inF + b] - gram[a * inF + a]);
    order.forEach((c, rank) => {
      expect(q.groupIndex[c]).toBe(Math.floor(rank / 32));
    });
    // Not the identity: the calibration features have 5 different scales.
    expect([...q.groupIndex]).not.toEqual(Array.from({ length: inF }, (_, c) => Math.floor(c / 32)));
  });

  it('reconstructs the layer better than round to nearest on the same grid', () => {
    for (const s of [settingsOf(4, 0, false, false), settingsOf(3, 32, false, false), settingsOf(4, 0, true, true)]) {
      const g = gptq(w, out, inF, gram, s);
      const r = rtnQuantize(w, out, inF, s);
      expect(err(g.weights)).toBeLessThan(0.9 * err(r.weights));
    }
  });

  it('with a fixed mask keeps exactly that mask, equals the direct reading, and beats mask + RTN', () => {
    const sq = Float32Array.from({ length: inF }, (_, j) => gram[j * inF + j]);
    const mask = rowTopKMask(wandaScores(w, out, inF, sq), out, inF, inF / 2);
    for (const s of [settingsOf(4, 0, false, false), settingsOf(4, 32, true, true)]) {
      const q = gptq(w, out, inF, gram, s, mask);
      expect([...q.mask]).toEqual([...mask]);
      expectOnGrid(q, out, inF, s);
      const ref = readGptq(w, out, inF, gram, s, mask);
      expect(maxAbsDiff(q.weights, ref.weights)).toBeLessThan(1e-4);
      const masked = w.map((v, i) => v * mask[i]);
      expect(err(q.weights)).toBeLessThan(err(rtnQuantize(masked, out, inF, s, mask).weights));
    }
  });

  it('rejects act-order with N:M, and a fixed mask together with N:M', () => {
    const s = settingsOf(4, 0, false, true);
    expect(() => sparseGpt(w, out, inF, gram, { sparsity: 0.5, nm: { n: 2, m: 4 }, quant: s })).toThrow(/act-order/);
    expect(() =>
      sparseGpt(w, out, inF, gram, { sparsity: 0.5, nm: { n: 2, m: 4 }, mask: new Uint8Array(out * inF) }),
    ).toThrow(/mask/);
    expect(() => gptq(w, out, inF, gram, settingsOf(9, 0, false, false))).toThrow(/bits/);
  });
});

describe('SparseGPT with quantization', () => {
  const out = 12;
  const inF = 160;
  const tokens = 320;
  // Heavy-tailed: with uniform weights, SparseGPT's compensation pushes the kept weights past the
  // range their group's grid was fitted to (at the group's first column) and the joint sweep only
  // ties SparseGPT-then-RTN; with a few large weights per row, the range has room.
  const w = heavyTailed(out * inF, 61);
  const x = calibration(tokens, inF, 62);
  const gram = gramOf(x, tokens, inF);
  const err = (wHat: Float32Array) => outputError(w, wHat, x, out, inF);

  it('at 0% sparsity equals GPTQ', () => {
    for (const s of [
      settingsOf(4, 0, false, false),
      settingsOf(3, 32, true, false),
      settingsOf(4, 64, false, true),
      settingsOf(8, 96, false, false),
    ]) {
      const joint = sparseGpt(w, out, inF, gram, { sparsity: 0, quant: s });
      const plain = gptq(w, out, inF, gram, s);
      expect(joint.quantized).toEqual(plain);
      expect(joint.weights).toEqual(plain.weights);
      expect(sum(joint.mask)).toBe(out * inF);
    }
  });

  it('at 50% + 4 bits: pruned entries exactly 0, kept on the grid, error below SparseGPT-then-RTN and magnitude + RTN', () => {
    for (const s of [
      settingsOf(4, 0, false, false),
      settingsOf(4, 32, false, false),
      settingsOf(4, 128, true, false),
    ]) {
      const joint = sparseGpt(w, out, inF, gram, { sparsity: 0.5, quant: s });
      const q = joint.quantized!;
      expect(sum(joint.mask)).toBe((out * inF) / 2);
      expect([...q.mask]).toEqual([...joint.mask]);
      joint.weights.forEach((v, i) => {
        if (!joint.mask[i]) expect(Object.is(v, 0)).toBe(true);
      });
      expectOnGrid(q, out, inF, s);

      const pruned = sparseGpt(w, out, inF, gram, { sparsity: 0.5 });
      const twoStep = rtnQuantize(pruned.weights, out, inF, s, pruned.mask);
      const magMask = rowTopKMask(magnitudeScores(w), out, inF, inF / 2);
      const magRtn = rtnQuantize(
        w.map((v, i) => v * magMask[i]),
        out,
        inF,
        s,
        magMask,
      );
      expect(err(joint.weights)).toBeLessThan(err(twoStep.weights));
      expect(err(twoStep.weights)).toBeLessThan(err(magRtn.weights));
    }
  });

  it('2:4 + 3 bits keeps 2 of every 4 and quantizes the rest', () => {
    const s = settingsOf(3, 32, false, false);
    const r = sparseGpt(w, out, inF, gram, { sparsity: 0.5, nm: { n: 2, m: 4 }, quant: s });
    for (let k = 0; k < out * inF; k += 4) expect(sum(r.mask.subarray(k, k + 4))).toBe(2);
    expectOnGrid(r.quantized!, out, inF, s);
    const twoStep = sparseGpt(w, out, inF, gram, { sparsity: 0.5, nm: { n: 2, m: 4 } });
    expect(err(r.weights)).toBeLessThan(err(rtnQuantize(twoStep.weights, out, inF, s, twoStep.mask).weights));
  });

  it("given SparseGPT's own mask as a fixed mask, reproduces SparseGPT's weights", () => {
    for (const blockSize of [128, 40]) {
      const adaptive = sparseGpt(w, out, inF, gram, { sparsity: 0.6, blockSize });
      const fixed = sparseGpt(w, out, inF, gram, { sparsity: 0, mask: adaptive.mask, blockSize });
      expect([...fixed.mask]).toEqual([...adaptive.mask]);
      expect(fixed.weights).toEqual(adaptive.weights);
      expect(fixed.quantized).toBe(null);
    }
  });
});

describe('adversarial layers', () => {
  const out = 8;
  const inF = 72;
  const tokens = 160;
  const x = calibration(tokens, inF, 71);
  const gram = gramOf(x, tokens, inF);
  const base = randomArray(out * inF, 72);

  it('all-zero rows stay 0 at the zero point, with the [−1, 1] grid', () => {
    const w = Float32Array.from(base);
    w.fill(0, 0, inF);
    w.fill(0, 5 * inF, 6 * inF);
    for (const s of [settingsOf(4, 0, false, false), settingsOf(3, 32, true, true)]) {
      const q = gptq(w, out, inF, gram, s);
      expectOnGrid(q, out, inF, s);
      for (const r of [0, 5]) {
        for (let c = 0; c < inF; c++) expect(Object.is(q.weights[r * inF + c], 0)).toBe(true);
        for (let g = 0; g < q.groups; g++) expect(q.scales[r * q.groups + g]).toBe(f32(2 / (2 ** s.bits - 1)));
      }
    }
  });

  it('a dead input (zero Gram row) gets weight 0 and leaves everything finite and on the grid', () => {
    const g = Float64Array.from(gram);
    for (let j = 0; j < inF; j++) {
      g[3 * inF + j] = 0;
      g[j * inF + 3] = 0;
    }
    for (const s of [settingsOf(4, 0, false, false), settingsOf(4, 16, false, true), settingsOf(3, 32, true, false)]) {
      const q = gptq(base, out, inF, g, s);
      expectOnGrid(q, out, inF, s);
      for (let r = 0; r < out; r++) expect(q.weights[r * inF + 3]).toBe(0);
      expect(q.weights.every(Number.isFinite)).toBe(true);
      const ref = readGptq(base, out, inF, g, s);
      expect(maxAbsDiff(q.weights, ref.weights)).toBeLessThan(1e-4);
      const joint = sparseGpt(base, out, inF, g, { sparsity: 0.5, quant: s });
      expect(joint.weights.every(Number.isFinite)).toBe(true);
      for (let r = 0; r < out; r++) expect(joint.weights[r * inF + 3]).toBe(0);
    }
  });

  it('constant rows quantize onto the grid; a positive constant row is exact on an asymmetric grid', () => {
    const w = Float32Array.from(base);
    w.fill(0.3, 0, inF);
    w.fill(-2, 2 * inF, 3 * inF);
    for (const s of [settingsOf(4, 0, false, false), settingsOf(3, 16, true, false)]) {
      const q = gptq(w, out, inF, gram, s);
      expectOnGrid(q, out, inF, s);
      expect(q.weights.every(Number.isFinite)).toBe(true);
    }
    // Every weight of a constant row is the top of its range [0, 0.3]: on the grid up to the
    // float32 scale, so GPTQ has (almost) no error to spread and the row stays 0.3.
    const s = settingsOf(4, 0, false, false);
    const q = gptq(w, out, inF, gram, s);
    const rtn = rtnQuantize(w, out, inF, s);
    for (let c = 0; c < inF; c++) {
      expect(Math.abs(rtn.weights[c] - 0.3)).toBeLessThan(1e-6);
      expect(Math.abs(q.weights[c] - 0.3)).toBeLessThan(1e-6);
      expect(q.codes[c]).toBe(15);
    }
  });

  it('huge and tiny weights and inputs (×2^±100) give the same codes, scaled exactly', () => {
    const s = settingsOf(4, 32, false, true);
    const ref = gptq(base, out, inF, gram, s);
    for (const k of [100, -100]) {
      const f = 2 ** k;
      const q = gptq(
        base.map((v) => v * f),
        out,
        inF,
        gram,
        s,
      );
      expect([...q.codes]).toEqual([...ref.codes]);
      expect([...q.weights]).toEqual([...ref.weights].map((v) => v * f));
      const qx = gptq(
        base,
        out,
        inF,
        gram.map((v) => v * f * f),
        s,
      );
      expect([...qx.codes]).toEqual([...ref.codes]);
      expect(qx.weights).toEqual(ref.weights);
    }
    // One row of 1e30 among rows of 1: rows are independent, each on its own grid.
    const mixed = Float32Array.from(base);
    for (let c = 0; c < inF; c++) mixed[c] *= 1e30;
    const q = gptq(mixed, out, inF, gram, s);
    expectOnGrid(q, out, inF, s);
    expect([...q.codes.subarray(inF)]).toEqual([...ref.codes.subarray(inF)]);
  });

  it('inF below the group size is one group, the same as per channel', () => {
    const small = 20;
    const xs = calibration(60, small, 73);
    const gs = gramOf(xs, 60, small);
    const w = randomArray(out * small, 74);
    const grouped = gptq(w, out, small, gs, settingsOf(3, 128, false, false));
    const channel = gptq(w, out, small, gs, settingsOf(3, 0, false, false));
    expect(grouped.groups).toBe(1);
    expect([...grouped.groupIndex]).toEqual(new Array(small).fill(0));
    expect(grouped).toEqual(channel);
    expect(rtnQuantize(w, out, small, settingsOf(3, 128, false, false))).toEqual(
      rtnQuantize(w, out, small, settingsOf(3, 0, false, false)),
    );
  });
});
