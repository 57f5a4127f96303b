// Exact tests of the unstructured and semi-structured building blocks.
import { calibration, gaussJordanInverse, gramOf, outputError } from './layer-test-support';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { better, globalTopK, keepCount, rowTopKMask, rowTopKMaskLoops, prepareScores, topKMask } from './select';
import { nmMask } from './nm';
import { wandaScores, wandaScoresLoops } from './wanda';
import { magnitudeScores } from './magnitude';
import { randomScores } from './random';
import { sparseGpt } from './sparsegpt';
import { fromRows, toRows } from './layout';
import { randomArray } from '../model/tiny-models';
import type { LinearSpec } from '../model/schema';

const sum = (m: Uint8Array) => m.reduce((a, v) => a + v, 0);

describe('selection', () => {
  it('a global threshold keeps exactly the requested count, ties broken by position', () => {
    const a = Float32Array.from([3, 1, 2, 2, 2]);
    const b = Float32Array.from([2, 5, NaN, 0]);
    const [ma, mb] = globalTopK([a, b], 4);
    // 5 and 3 beat the threshold 2; two of the four 2s are kept: the first two in order.
    expect([...ma]).toEqual([1, 0, 1, 1, 0]);
    expect([...mb]).toEqual([0, 1, 0, 0]);
    for (let k = 0; k <= 9; k++) expect(globalTopK([a, b], k).reduce((s, m) => s + sum(m), 0)).toBe(k);
  });

  it('ranks NaN below everything, and -0 equal to +0', () => {
    expect([...topKMask(Float32Array.from([NaN, -Infinity, 0]), 2)]).toEqual([0, 1, 1]);
    expect([...topKMask(Float32Array.from([-0, 0, 0]), 1)]).toEqual([1, 0, 0]);
  });

  it('is exact on many random sizes with heavy ties', () => {
    for (let t = 0; t < 30; t++) {
      const n = 1 + ((t * 37) % 500);
      const s = Float32Array.from(randomArray(n, t + 1), (v) => Math.round(v * 3));
      const k = keepCount(n, (t % 10) / 10);
      const m = topKMask(s, k);
      expect(sum(m)).toBe(k);
      // Every kept score ≥ every dropped score.
      let minKept = Infinity;
      let maxDropped = -Infinity;
      m.forEach((v, i) => {
        if (v) minKept = Math.min(minKept, s[i]);
        else maxDropped = Math.max(maxDropped, s[i]);
      });
      if (k > 0 && k < n) expect(minKept).toBeGreaterThanOrEqual(maxDropped);
    }
  });

  it('row-wise selection keeps the same count in every row', () => {
    const s = randomArray(6 * 10, 3);
    const m = rowTopKMask(s, 6, 10, 4);
    for (let r = 0; r < 6; r++) expect(sum(m.subarray(r * 10, r * 10 + 10))).toBe(4);
  });

  it('row-wise selection is the order `better` defines: higher first, ties by position, NaN last', () => {
    // Scores from a small set (many ties), with NaN, ±0 and ±Infinity, against sorting indices.
    const value = fc.constantFrom(0, -0, 1, 2, 2.5, -1, Number.NaN, Infinity, -Infinity, 1e-30, 3.4e38);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(value, { minLength: 48, maxLength: 48 }),
        fc.nat(),
        (rows, cols, pool, k) => {
          const scores = Float32Array.from({ length: rows * cols }, (_, i) => pool[i % pool.length]);
          const keep = k % (cols + 1);
          const expected = new Uint8Array(rows * cols);
          for (let r = 0; r < rows; r++) {
            const idx = Array.from({ length: cols }, (_, c) => r * cols + c).sort((a, b) => better(scores, a, b));
            for (const i of idx.slice(0, keep)) expected[i] = 1;
          }
          expect(rowTopKMask(scores, rows, cols, keep)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('row-wise selection by the kernel equals its loops, over bands of rows past the kernel memory', () => {
    // 1,100 rows of 1,000: more than the kernel holds at once (2²⁰ scores), so two bands.
    const rows = 1100;
    const cols = 1000;
    const scores = Float32Array.from(randomArray(rows * cols, 5), (v, i) =>
      i % 97 === 0 ? Number.NaN : Math.round(v * 8),
    );
    for (const keep of [0, 1, 500, 999, 1000]) {
      const got = rowTopKMask(scores, rows, cols, keep);
      expect(got).toEqual(rowTopKMaskLoops(scores, rows, cols, keep));
      expect(sum(got)).toBe(rows * keep);
    }
  });

  it('the global f32 selection (by histogram) is the order `better` defines over the groups concatenated', () => {
    // Values that share a histogram bucket (1 and 1 + 2⁻²⁰), straddle the sign, are subnormal, ±0,
    // ±Infinity and NaN; groups of several sizes; any keep count.
    const value = fc.oneof(
      fc.constantFrom(
        0,
        -0,
        1,
        1 + 2 ** -20,
        -1,
        -1 - 2 ** -20,
        Number.NaN,
        Infinity,
        -Infinity,
        1e-45,
        -1e-45,
        3.4e38,
      ),
      fc.float({ noNaN: false }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { maxLength: 30 }), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (pools, k) => {
          const groups = pools.map((p) => Float32Array.from(p));
          const all = Float32Array.from(groups.flatMap((g) => [...g]));
          const keep = k % (all.length + 1);
          const idx = Array.from(all, (_, i) => i).sort((a, b) => better(all, a, b));
          const expected = new Uint8Array(all.length);
          for (const i of idx.slice(0, keep)) expected[i] = 1;
          const masks = globalTopK(groups, keep);
          expect(Uint8Array.from(masks.flatMap((m) => [...m]))).toEqual(expected);
          // The f64 path (selection over a copy) agrees.
          const wide = globalTopK(
            groups.map((g) => Float64Array.from(g)),
            keep,
          );
          expect(wide).toEqual(masks);
          // The scores a slider prepared (sorted, as few are, or counted into the histogram many
          // get) select the same, for this keep and another.
          const other = (keep * 7 + 3) % (all.length + 1);
          for (const p of [prepareScores(groups), prepareScores(groups, 0)]) {
            expect(globalTopK(groups, keep, p)).toEqual(masks);
            expect(globalTopK(groups, other, p)).toEqual(globalTopK(groups, other));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('prepares few scores as every number sorted ascending (−0 as +0), NaN left out', () => {
    const value = fc.oneof(
      fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-45, -1e-45),
      fc.float(),
    );
    fc.assert(
      fc.property(fc.array(fc.array(value, { maxLength: 3000 }), { minLength: 1, maxLength: 3 }), (pools) => {
        const groups = pools.map((p) => Float32Array.from(p));
        const p = prepareScores(groups);
        if (p.kind !== 'sorted') throw new Error('expected the sorted preparation');
        const numbers = groups.flatMap((g) => [...g].filter((v) => !Number.isNaN(v)));
        const expected = Float32Array.from(numbers).sort();
        expect(Array.from(p.numbers, (v) => (v === 0 ? 0 : v))).toEqual(Array.from(expected, (v) => (v === 0 ? 0 : v)));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses scores prepared from other arrays', () => {
    const a = Float32Array.from([1, 2, 3]);
    const b = Float32Array.from([1, 2, 3]);
    expect(() => globalTopK([a], 1, prepareScores([b]))).toThrow(/other arrays/);
    expect(() => globalTopK([a, b], 1, prepareScores([a]))).toThrow(/other arrays/);
  });

  it('N:M masks hold exactly N of every M, for 2:4, 4:8 and 1:3', () => {
    for (const [n, mm] of [
      [2, 4],
      [4, 8],
      [1, 3],
    ]) {
      const rows = 5;
      const cols = mm * 6;
      const s = randomArray(rows * cols, n * 10 + mm);
      const mask = nmMask(s, rows, cols, n, mm);
      for (let r = 0; r < rows; r++) {
        for (let g = 0; g < cols; g += mm) {
          const grp = mask.subarray(r * cols + g, r * cols + g + mm);
          expect(sum(grp)).toBe(n);
          // the kept ones are the group's largest
          const kept = [...grp].map((v, i) => (v ? s[r * cols + g + i] : Infinity));
          const dropped = [...grp].map((v, i) => (v ? -Infinity : s[r * cols + g + i]));
          expect(Math.min(...kept)).toBeGreaterThanOrEqual(Math.max(...dropped));
        }
      }
    }
    expect(() => nmMask(new Float32Array(4), 1, 4, 4, 4)).toThrow(/N < M/);
  });

  it('N:M keeps what ranking each group by `better` keeps: ties, NaN, ±0, a shorter last group', () => {
    // The definition: sort each group's indices best first, keep the first N (round(N/M·len) in a
    // shorter last group).
    const bySort = (s: Float32Array, rows: number, cols: number, n: number, m: number) => {
      const mask = new Uint8Array(rows * cols);
      for (let r = 0; r < rows; r++)
        for (let g = 0; g < cols; g += m) {
          const len = Math.min(m, cols - g);
          const idx = Array.from({ length: len }, (_, c) => r * cols + g + c).sort((a, b) => better(s, a, b));
          for (const i of idx.slice(0, len === m ? n : Math.round((n * len) / m))) mask[i] = 1;
        }
      return mask;
    };
    const score = fc.oneof(
      fc.constantFrom(0, -0, 1, -1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
      fc.float({ noDefaultInfinity: true }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }).chain((m) =>
          fc.record({
            m: fc.constant(m),
            n: fc.integer({ min: 0, max: m - 1 }),
            rows: fc.integer({ min: 1, max: 4 }),
            cols: fc.integer({ min: 1, max: 3 * m + 1 }),
          }),
        ),
        fc.infiniteStream(score),
        ({ m, n, rows, cols }, draws) => {
          const it = draws[Symbol.iterator]();
          const s = Float32Array.from({ length: rows * cols }, () => it.next().value as number);
          expect([...nmMask(s, rows, cols, n, m)]).toEqual([...bySort(s, rows, cols, n, m)]);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('scores', () => {
  it("Wanda's scores by the kernel equal its loop's: signed zeros, subnormals, infinities, NaN, bands of rows", () => {
    const value = fc.oneof(
      fc.constantFrom(0, -0, 1e-45, -1e-45, 3.4e38, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
      fc.float(),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 11 }),
        fc.infiniteStream(value),
        (out, inF, draws) => {
          const it = draws[Symbol.iterator]();
          const next = () => it.next().value as number;
          const w = Float32Array.from({ length: out * inF }, next);
          const sq = Float32Array.from({ length: inF }, () => Math.abs(next()));
          const norm = Float32Array.from(sq, Math.sqrt);
          expect(wandaScores(w, out, inF, sq)).toEqual(wandaScoresLoops(w, out, inF, norm));
        },
      ),
      { numRuns: 300 },
    );
    // 2,100 rows of 1,000: past the kernel's 2²⁰ scores at a time, so three bands.
    const w = Float32Array.from(randomArray(2100 * 1000, 8));
    const sq = Float32Array.from(randomArray(1000, 9), Math.abs);
    expect(wandaScores(w, 2100, 1000, sq)).toEqual(wandaScoresLoops(w, 2100, 1000, Float32Array.from(sq, Math.sqrt)));
  });

  it("Wanda's mask equals a direct reading of its definition", () => {
    const out = 4;
    const inF = 8;
    const w = randomArray(out * inF, 5);
    const x = randomArray(20 * inF, 6, 3); // 20 calibration tokens
    const sq = new Float32Array(inF);
    for (let t = 0; t < 20; t++) for (let j = 0; j < inF; j++) sq[j] += x[t * inF + j] ** 2;
    const mask = rowTopKMask(wandaScores(w, out, inF, sq), out, inF, 4);
    for (let o = 0; o < out; o++) {
      const direct = Array.from({ length: inF }, (_, j) => {
        let norm = 0;
        for (let t = 0; t < 20; t++) norm += x[t * inF + j] ** 2;
        return Math.abs(w[o * inF + j]) * Math.sqrt(norm);
      });
      const best4 = direct
        .map((v, j) => [v, j])
        .sort((a, b) => b[0] - a[0])
        .slice(0, 4)
        .map((p) => p[1])
        .sort();
      const kept = [...mask.subarray(o * inF, (o + 1) * inF)].flatMap((v, j) => (v ? [j] : []));
      expect(kept).toEqual(best4);
    }
  });

  it('magnitude is |w|; random is seeded and uniform', () => {
    expect([...magnitudeScores(Float32Array.from([-2, 0.5, -0]))]).toEqual([2, 0.5, 0]);
    expect(randomScores(100, 7)).toEqual(randomScores(100, 7));
    expect(randomScores(100, 7)).not.toEqual(randomScores(100, 8));
    const r = randomScores(10000, 1);
    expect(r.reduce((a, v) => a + v, 0) / r.length).toBeCloseTo(0.5, 1);
  });

  it('moves a Conv1D [in, out] matrix into [out, in] rows and back', () => {
    const spec = { layout: 'in_out', inFeatures: 2, outFeatures: 3 } as LinearSpec;
    const stored = Float32Array.from([1, 2, 3, 4, 5, 6]); // [[1,2,3],[4,5,6]] as [in, out]
    const rows = toRows(stored, spec);
    expect([...rows]).toEqual([1, 4, 2, 5, 3, 6]);
    expect(fromRows(rows, spec)).toEqual(stored);
  });
});

// ---- SparseGPT ----

describe('SparseGPT', () => {
  const out = 12;
  const inF = 24;
  const tokens = 200;
  const w = randomArray(out * inF, 21);
  const x = calibration(tokens, inF, 22);
  const gram = gramOf(x, tokens, inF);

  it('reconstructs the layer better than magnitude and Wanda at the same density, unstructured and 2:4', () => {
    const sq = Float32Array.from({ length: inF }, (_, j) => gram[j * inF + j]);
    const keepPerRow = inF / 2;
    const masked = (mask: Uint8Array) => w.map((v, i) => v * mask[i]);
    const mag = masked(rowTopKMask(magnitudeScores(w), out, inF, keepPerRow));
    const wan = masked(rowTopKMask(wandaScores(w, out, inF, sq), out, inF, keepPerRow));
    const sg = sparseGpt(w, out, inF, gram, { sparsity: 0.5, blockSize: 8 });
    expect(sum(sg.mask)).toBe((out * inF) / 2);
    sg.weights.forEach((v, i) => {
      if (sg.mask[i] === 0) expect(v).toBe(0);
    });
    const err = (wh: Float32Array) => outputError(w, wh, x, out, inF);
    expect(err(sg.weights)).toBeLessThan(err(wan));
    expect(err(wan)).toBeLessThan(err(mag));

    const mag24 = masked(nmMask(magnitudeScores(w), out, inF, 2, 4));
    const wan24 = masked(nmMask(wandaScores(w, out, inF, sq), out, inF, 2, 4));
    const sg24 = sparseGpt(w, out, inF, gram, { sparsity: 0.5, nm: { n: 2, m: 4 } });
    for (let r = 0; r < out; r++)
      for (let g = 0; g < inF; g += 4) expect(sum(sg24.mask.subarray(r * inF + g, r * inF + g + 4))).toBe(2);
    expect(err(sg24.weights)).toBeLessThan(Math.min(err(wan24), err(mag24)));
  });

  it('equals sequential Optimal Brain Surgeon updates computed with explicit matrix inverses', () => {
    // One block: the mask is chosen once from w²/[H_F⁻¹]₀₀, then columns are pruned left to right,
    // each pruned weight's error spread over its row's later columns by row 0 of inv(H[i:, i:]).
    const sg = sparseGpt(w, out, inF, gram, { sparsity: 0.5, blockSize: inF });
    const h = Array.from({ length: inF }, (_, i) => Array.from({ length: inF }, (_, j) => 2 * gram[i * inF + j]));
    const damp = (0.01 * h.reduce((a, row, i) => a + row[i], 0)) / inF;
    h.forEach((row, i) => {
      row[i] += damp;
    });
    const sub = (i: number) => gaussJordanInverse(h.slice(i).map((row) => row.slice(i)));
    const firstRows = Array.from({ length: inF }, (_, i) => sub(i)[0]);
    const scores = Float32Array.from({ length: out * inF }, (_, k) => w[k] ** 2 / firstRows[k % inF][0]);
    const mask = topKMask(scores, (out * inF) / 2);
    expect([...sg.mask]).toEqual([...mask]);
    const ref = Array.from(w);
    for (let i = 0; i < inF; i++) {
      const hi = firstRows[i];
      for (let r = 0; r < out; r++) {
        if (mask[r * inF + i]) continue;
        const e = ref[r * inF + i] / hi[0];
        for (let j = i; j < inF; j++) ref[r * inF + j] -= e * hi[j - i];
      }
    }
    let maxDiff = 0;
    ref.forEach((v, k) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - sg.weights[k]));
    });
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('zeroes the weights of inputs that never fire and still works', () => {
    const g = Float64Array.from(gram);
    for (let j = 0; j < inF; j++) {
      g[3 * inF + j] = 0;
      g[j * inF + 3] = 0;
    }
    const r = sparseGpt(w, out, inF, g, { sparsity: 0.25 });
    for (let o = 0; o < out; o++) expect(r.weights[o * inF + 3]).toBe(0);
    expect(r.weights.every(Number.isFinite)).toBe(true);
  });
});
