// The WASM backend's replaced kernels against plain-TypeScript readings of what each op means, on
// random shapes (fast-check) and the awkward ones: batches broadcast either way, transposes, empty
// dimensions, whole and partial runs, indices at the ends of their range.
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWasm } from './node-wasm';
import { forward } from '../model/forward';
import { randomHostWeights, tinyGpt2, tinyLlama, tinyVit } from '../model/tiny-models';
import { toTfWeights } from '../model/weights';
import {
  fusedAttention,
  fusedAttentionReady,
  geluErf,
  geluErfOps,
  geluTanh,
  geluTanhOps,
  gram,
  layerNorm,
  layerNormOps,
  linear,
  logSumExpRows,
  silu,
  siluOps,
  sumSquares,
} from './fused';
import {
  attentionReference,
  erfReference,
  geluErfReference,
  geluTanhReference,
  gemmReference,
  gramReference,
  layerNormReference,
  logSumExpReference,
  siluReference,
} from './simd-reference';

let previous = '';
beforeAll(async () => {
  previous = tf.getBackend();
  await useWasm();
});
afterAll(async () => {
  if (previous) await tf.setBackend(previous);
});

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
const random = (shape: number[], seed: number) => {
  let s = seed >>> 0;
  return Float32Array.from({ length: size(shape) }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
};

/** Row-major strides of a shape. */
const stridesOf = (shape: number[]) => shape.map((_, i) => size(shape.slice(i + 1)));

/** a · b over the last two axes, the batch axes broadcast, in float64. */
function referenceMatMul(a: Float32Array, as: number[], b: Float32Array, bs: number[], ta: boolean, tb: boolean) {
  const [ra, ca] = as.slice(-2) as [number, number];
  const [rb, cb] = bs.slice(-2) as [number, number];
  const [m, k] = ta ? [ca, ra] : [ra, ca];
  const n = tb ? rb : cb;
  const oa = as.slice(0, -2);
  const ob = bs.slice(0, -2);
  const rank = Math.max(oa.length, ob.length);
  const pa = [...Array(rank - oa.length).fill(1), ...oa];
  const pb = [...Array(rank - ob.length).fill(1), ...ob];
  const outer = pa.map((d, i) => Math.max(d, pb[i]!));
  const out = new Float32Array(size(outer) * m * n);
  const sa = stridesOf(pa);
  const sb = stridesOf(pb);
  for (let o = 0; o < size(outer); o++) {
    let ia = 0;
    let ib = 0;
    let rest = o;
    for (let d = rank - 1; d >= 0; d--) {
      const at = rest % outer[d]!;
      rest = Math.floor(rest / outer[d]!);
      ia += (pa[d] === 1 ? 0 : at) * sa[d]!;
      ib += (pb[d] === 1 ? 0 : at) * sb[d]!;
    }
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) {
          const x = a[ia * ra * ca + (ta ? p * ca + i : i * ca + p)]!;
          const y = b[ib * rb * cb + (tb ? j * cb + p : p * cb + j)]!;
          sum += x * y;
        }
        out[(o * m + i) * n + j] = sum;
      }
  }
  return { out, shape: [...outer, m, n] };
}

function checkMatMul(as: number[], bs: number[], ta: boolean, tb: boolean, seed: number) {
  const a = random(as, seed);
  const b = random(bs, seed + 1);
  const want = referenceMatMul(a, as, b, bs, ta, tb);
  const got = tf.tidy(() => tf.matMul(tf.tensor(a, as), tf.tensor(b, bs), ta, tb));
  expect(got.shape).toEqual(want.shape);
  const values = got.dataSync();
  got.dispose();
  for (let i = 0; i < values.length; i++) expect(Math.abs(values[i]! - want.out[i]!)).toBeLessThan(1e-4);
}

describe('BatchMatMul on WASM', () => {
  it.each([
    ['one product', [5, 7], [7, 4]],
    ['a batch times one matrix (folded into rows)', [3, 5, 7], [7, 4]],
    ['rank 4 times one matrix', [2, 3, 5, 7], [7, 4]],
    ['a true batch of small slices (the SIMD kernel, one call)', [6, 5, 7], [6, 7, 4]],
    ['a true batch past 16 columns (the SIMD kernel)', [3, 20, 16], [3, 16, 20]],
    ['heads × windows of small slices', [2, 3, 5, 7], [2, 3, 7, 4]],
    ['heads × windows, 16 columns and a tail', [2, 2, 24, 16], [2, 2, 16, 24]],
    ['one a shared by every slice of b', [5, 7], [3, 7, 4]],
    ['a batch of 1 against a batch', [1, 5, 7], [3, 7, 4]],
    ['broadcast over unequal batch axes (the fallback)', [2, 1, 5, 7], [1, 3, 7, 4]],
  ])('%s, each transpose', (_, as, bs) => {
    for (const ta of [false, true])
      for (const tb of [false, true]) {
        const sa = ta ? [...as.slice(0, -2), as.at(-1)!, as.at(-2)!] : as;
        const sb = tb ? [...bs.slice(0, -2), bs.at(-1)!, bs.at(-2)!] : bs;
        checkMatMul(sa, sb, ta, tb, 7);
      }
  });

  it('a true batch past the SIMD kernel’s size: one XNNPACK call a slice', () => {
    checkMatMul([2, 330, 320], [2, 330, 320], false, true, 3);
  });

  it('empty dimensions', () => {
    checkMatMul([3, 0, 7], [3, 7, 4], false, false, 1);
    checkMatMul([3, 5, 7], [3, 7, 0], false, false, 2);
    checkMatMul([0, 5, 7], [0, 7, 4], false, false, 3);
    checkMatMul([3, 5, 0], [3, 0, 4], false, false, 4);
    checkMatMul([5, 0], [0, 4], false, false, 5);
  });

  it('refuses inner dimensions that differ', () => {
    expect(() => tf.matMul(tf.zeros([2, 5, 7]), tf.zeros([2, 6, 4]))).toThrow(/inner shapes 7 and 6/);
  });

  it('random batched shapes', () => {
    const dim = fc.integer({ min: 1, max: 9 });
    fc.assert(
      fc.property(
        fc.array(dim, { maxLength: 2 }),
        dim,
        dim,
        dim,
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (outer, m, k, n, ta, tb, shareB) => {
          const as = [...outer, ...(ta ? [k, m] : [m, k])];
          const bs = [...(shareB ? [] : outer), ...(tb ? [n, k] : [k, n])];
          checkMatMul(as, bs, ta, tb, m * 31 + n);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a batch times one matrix, plain or transposed, is the blocked SIMD kernel, value for value', () => {
    const a = random([3, 5, 300], 8);
    const b = random([300, 520], 9);
    const bt = random([520, 300], 10);
    const got = tf.tidy(() => tf.matMul(tf.tensor(a, [3, 5, 300]), tf.tensor(b, [300, 520])).dataSync());
    expect(Array.from(got)).toEqual(Array.from(gemmReference(a, b, null, 15, 300, 520, false)));
    const gotT = tf.tidy(() => tf.matMul(tf.tensor(a, [3, 5, 300]), tf.tensor(bt, [520, 300]), false, true).dataSync());
    expect(Array.from(gotT)).toEqual(Array.from(gemmReference(a, bt, null, 15, 300, 520, true)));
  });

  it('leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    checkMatMul([2, 3, 7, 5], [2, 3, 4, 7], true, true, 5);
    checkMatMul([4, 5, 7], [4, 7], false, true, 6);
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** x[begin : begin + size] by index arithmetic. */
function referenceSlice(x: Float32Array, shape: number[], begin: number[], sz: number[]) {
  const out = new Float32Array(size(sz));
  const s = stridesOf(shape);
  for (let o = 0; o < out.length; o++) {
    let rest = o;
    let at = 0;
    for (let d = sz.length - 1; d >= 0; d--) {
      at += (begin[d]! + (rest % sz[d]!)) * s[d]!;
      rest = Math.floor(rest / sz[d]!);
    }
    out[o] = x[at]!;
  }
  return out;
}

describe('Slice and SplitV on WASM', () => {
  it('random slices of ranks 1 to 5', () => {
    const box = fc
      .array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 })
      .chain((shape) =>
        fc.tuple(
          fc.constant(shape),
          fc.tuple(
            ...shape.map((d) =>
              fc
                .integer({ min: 0, max: d - 1 })
                .chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: d - b }))),
            ),
          ),
        ),
      );
    fc.assert(
      fc.property(box, ([shape, ranges]) => {
        const x = random(shape, shape.length);
        const begin = ranges.map(([b]) => b);
        const sz = ranges.map(([, s]) => s);
        const got = tf.tidy(() => tf.slice(tf.tensor(x, shape), begin, sz));
        expect(got.shape).toEqual(sz);
        expect(Array.from(got.dataSync())).toEqual(Array.from(referenceSlice(x, shape, begin, sz)));
        got.dispose();
      }),
      { numRuns: 150 },
    );
  });

  it('a whole tensor', () => {
    const x = random([2, 3, 4], 9);
    expect(Array.from(tf.slice(tf.tensor(x, [2, 3, 4]), [0, 0, 0], [2, 3, 4]).dataSync())).toEqual(Array.from(x));
  });

  it('splits q | k | v and unequal parts on every axis', () => {
    const shape = [2, 5, 12];
    const x = random(shape, 4);
    for (let axis = 0; axis < 3; axis++) {
      const whole = shape[axis]!;
      for (const parts of [whole % 2 === 0 ? 2 : 1, [1, whole - 1]]) {
        const got = tf.split(tf.tensor(x, shape), parts, axis);
        const sizes = typeof parts === 'number' ? Array(parts).fill(whole / parts) : parts;
        let at = 0;
        got.forEach((t, i) => {
          const begin = [0, 0, 0];
          begin[axis] = at;
          const sz = shape.slice();
          sz[axis] = sizes[i]!;
          expect(Array.from(t.dataSync())).toEqual(Array.from(referenceSlice(x, shape, begin, sz)));
          at += sizes[i]!;
        });
        tf.dispose(got);
      }
    }
  });
});

describe('GatherV2 on WASM', () => {
  it('random gathers along every axis', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.array(fc.nat(), { minLength: 0, maxLength: 7 }),
        fc.boolean(),
        (shape, axisSeed, picks, twoD) => {
          const axis = axisSeed % shape.length;
          const dim = shape[axis]!;
          const idx = picks.map((p) => p % dim);
          const idxShape = twoD && idx.length % 2 === 0 && idx.length > 0 ? [2, idx.length / 2] : [idx.length];
          const x = random(shape, 3);
          const got = tf.tidy(() => tf.gather(tf.tensor(x, shape), tf.tensor(idx, idxShape, 'int32'), axis));
          const outer = size(shape.slice(0, axis));
          const run = size(shape.slice(axis + 1));
          const want: number[] = [];
          for (let o = 0; o < outer; o++)
            for (const j of idx) for (let r = 0; r < run; r++) want.push(x[(o * dim + j) * run + r]!);
          expect(got.shape).toEqual([...shape.slice(0, axis), ...idxShape, ...shape.slice(axis + 1)]);
          expect(Array.from(got.dataSync())).toEqual(want);
          got.dispose();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('int32 values, and an index out of range refused', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
    expect(Array.from(tf.gather(x, tf.tensor1d([2, 0], 'int32')).dataSync())).toEqual([5, 6, 1, 2]);
    const before = tf.memory().numTensors;
    expect(() => tf.gather(x, tf.tensor1d([3], 'int32'))).toThrow(/index value 3/);
    expect(() => tf.gather(x, tf.tensor1d([-1], 'int32'))).toThrow(/index value -1/);
    expect(tf.memory().numTensors).toBe(before + 2);
  });
});

/**
 * What TensorFlow.js's Sum means on every backend, in its WASM kernel's precision and order: the
 * reduced axes moved last in the order they are given, and each output's terms added one after
 * another from 0, rounding to float32 (or wrapping to int32) after every addition.
 */
function referenceSum(x: Float32Array | Int32Array, shape: number[], axes: number[], integer: boolean) {
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const reduced = axes;
  const s = stridesOf(shape);
  const nKept = size(kept.map((i) => shape[i]!));
  const nReduced = size(reduced.map((i) => shape[i]!));
  const out: number[] = [];
  const offset = (dims: number[], flat: number) => {
    let at = 0;
    for (let d = dims.length - 1; d >= 0; d--) {
      at += (flat % shape[dims[d]!]!) * s[dims[d]!]!;
      flat = Math.floor(flat / shape[dims[d]!]!);
    }
    return at;
  };
  for (let o = 0; o < nKept; o++) {
    let sum = 0;
    for (let r = 0; r < nReduced; r++) {
      const v = x[offset(kept, o) + offset(reduced, r)]!;
      sum = integer ? (sum + v) | 0 : Math.fround(sum + v);
    }
    out.push(sum);
  }
  return out;
}

describe('Sum on WASM', () => {
  it('random reductions over any axes, bit for bit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.boolean(),
        fc.boolean(),
        (shape, picks, keepDims, integer) => {
          const axes = [...new Set(picks.map((p) => p % shape.length))];
          // Float terms of mixed sign and size, so the order of the additions shows in the rounding.
          const x = integer
            ? Int32Array.from(random(shape, 5), (v) => Math.round(v * 2 ** 30))
            : Float32Array.from(random(shape, 5), (v, i) => v * 10 ** ((i % 7) - 3));
          const got = tf.tidy(() => tf.sum(tf.tensor(x, shape, integer ? 'int32' : 'float32'), axes, keepDims));
          const want = axes.length === 0 ? Array.from(x) : referenceSum(x, shape, axes, integer);
          const wantShape = keepDims
            ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
            : shape.filter((_, i) => !axes.includes(i));
          expect(got.shape).toEqual(axes.length === 0 ? shape : wantShape);
          expect(Array.from(got.dataSync())).toEqual(want);
          got.dispose();
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a layer's statistic: Σ x² over 300 tokens, with infinities and NaN where they fall", () => {
    const x = Float32Array.from(random([300, 5], 8), (v) => v * 1e3);
    x[7] = Number.POSITIVE_INFINITY;
    x[13] = Number.NaN;
    x[600] = -0;
    const got = tf.tidy(() => tf.sum(tf.tensor2d(x, [300, 5]), 0));
    expect(Array.from(got.dataSync())).toEqual(referenceSum(x, [300, 5], [0], false));
    expect(Array.from(got.dataSync()).slice(2, 4)).toEqual([Number.POSITIVE_INFINITY, Number.NaN]);
    got.dispose();
  });

  it('leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => tf.sum(tf.ones([4, 3, 2]), [0, 2]).dataSync());
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Erf on WASM', () => {
  it('is the SIMD kernel, value for value, over lengths that leave a tail', () => {
    for (const n of [1, 4, 7, 33]) {
      const x = Float32Array.from(random([n], n), (v) => v * 5);
      x[0] = Number.NaN;
      const y = tf.tidy(() => tf.erf(tf.tensor1d(x)).dataSync());
      expect(Array.from(y)).toEqual(Array.from(x, erfReference));
    }
  });
});

describe('Layer norm and the activations on WASM', () => {
  const x = Float32Array.from(random([3, 5, 7], 11), (v) => v * 4);
  const gamma = random([7], 12);
  const beta = random([7], 13);

  it('are the fused SIMD kernels, value for value', () => {
    const ln = tf.tidy(() => layerNorm(tf.tensor(x, [3, 5, 7]), tf.tensor(gamma), tf.tensor(beta), 1e-5).dataSync());
    expect(Array.from(ln)).toEqual(Array.from(layerNormReference(x, gamma, beta, 15, 7, 1e-5)));
    for (const [op, twin] of [
      [geluErf, geluErfReference],
      [geluTanh, geluTanhReference],
      [silu, siluReference],
    ] as const) {
      const y = tf.tidy(() => op(tf.tensor(x, [3, 5, 7])).dataSync());
      expect(Array.from(y)).toEqual(Array.from(x, twin));
    }
  });

  it('agree with the op-by-op forms, whose gradients they take', () => {
    tf.tidy(() => {
      const [xt, gt, bt] = [tf.tensor(x, [3, 5, 7]), tf.tensor(gamma), tf.tensor(beta)];
      const dy = tf.tensor(random([3, 5, 7], 14), [3, 5, 7]);
      const close = (a: tf.Tensor, b: tf.Tensor, tol: number) =>
        expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(tol);
      close(layerNorm(xt, gt, bt, 1e-5), layerNormOps(xt, gt, bt, 1e-5), 1e-5);
      for (const [op, ops] of [
        [geluErf, geluErfOps],
        [geluTanh, geluTanhOps],
        [silu, siluOps],
      ] as const) {
        close(op(xt), ops(xt), 4e-6);
        close(tf.grad(op)(xt, dy), tf.grad(ops)(xt, dy), 1e-5);
      }
      const fusedLn = tf.grads((a, g, b) => layerNorm(a!, g!, b!, 1e-5))([xt, gt, bt], dy);
      const opsLn = tf.grads((a, g, b) => layerNormOps(a!, g!, b!, 1e-5))([xt, gt, bt], dy);
      for (const [i, g] of fusedLn.entries()) close(g, opsLn[i]!, 1e-5);
    });
  });

  it('xᵀx is the Gram kernel, value for value, with the product’s gradient', () => {
    const g = tf.tidy(() => gram(tf.tensor2d(x, [15, 7])).dataSync());
    expect(Array.from(g)).toEqual(Array.from(gramReference(x, 15, 7)));
    tf.tidy(() => {
      const xt = tf.tensor2d(x, [15, 7]);
      const dy = tf.tensor2d(random([7, 7], 15), [7, 7]);
      const fusedGrad = tf.grad((a) => gram(a as tf.Tensor2D))(xt, dy);
      const opsGrad = tf.grad((a) => tf.matMul(a, a, true, false))(xt, dy);
      expect(tf.max(tf.abs(tf.sub(fusedGrad, opsGrad))).dataSync()[0]).toBeLessThan(1e-4);
    });
  });

  it('a linear layer is the blocked kernel with its bias, value for value, with the product and add’s gradients', () => {
    const w = random([7, 9], 16);
    const bias = random([9], 17);
    for (const transposed of [false, true]) {
      const y = tf.tidy(() =>
        linear(
          tf.tensor2d(x, [15, 7]),
          tf.tensor2d(w, transposed ? [9, 7] : [7, 9]),
          tf.tensor1d(bias),
          transposed,
        ).dataSync(),
      );
      expect(Array.from(y)).toEqual(Array.from(gemmReference(x, w, bias, 15, 7, 9, transposed)));
      tf.tidy(() => {
        const [xt, wt, bt] = [tf.tensor2d(x, [15, 7]), tf.tensor2d(w, transposed ? [9, 7] : [7, 9]), tf.tensor1d(bias)];
        const dy = tf.tensor2d(random([15, 9], 18), [15, 9]);
        const fusedGrads = tf.grads((a, b, c) =>
          linear(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor1D, transposed),
        )([xt, wt, bt], dy);
        const opsGrads = tf.grads((a, b, c) => tf.add(tf.matMul(a!, b!, false, transposed), c!))([xt, wt, bt], dy);
        for (const [i, g] of fusedGrads.entries())
          expect(tf.max(tf.abs(tf.sub(g, opsGrads[i]!))).dataSync()[0]).toBeLessThan(1e-5);
      });
    }
    const empty = tf.tidy(() =>
      linear(
        tf.zeros([2, 0]) as tf.Tensor2D,
        tf.zeros([0, 3]) as tf.Tensor2D,
        tf.tensor1d([1, 2, 3]),
        false,
      ).dataSync(),
    );
    expect(Array.from(empty)).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('log Σ e^x of each row is the SIMD kernel, value for value, with logSumExp’s gradient', () => {
    const wide = Float32Array.from(random([3, 1001], 19), (v) => v * 30);
    const got = tf.tidy(() => logSumExpRows(tf.tensor2d(wide, [3, 1001])).dataSync());
    expect(Array.from(got)).toEqual(Array.from(logSumExpReference(wide, 3, 1001)));
    tf.tidy(() => {
      const xt = tf.tensor2d(wide, [3, 1001]);
      const close = (a: tf.Tensor, b: tf.Tensor, tol: number) =>
        expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(tol);
      close(logSumExpRows(xt), tf.logSumExp(xt, 1), 2e-5);
      const dy = tf.tensor1d([0.5, -1, 2]);
      close(tf.grad((a) => logSumExpRows(a as tf.Tensor2D))(xt, dy), tf.grad((a) => tf.logSumExp(a, 1))(xt, dy), 1e-6);
      expect(Array.from(logSumExpRows(tf.zeros([2, 0]) as tf.Tensor2D).dataSync())).toEqual([-Infinity, -Infinity]);
    });
  });

  it('Σ x² over the rows is the SIMD kernel, and bit for bit the sum of the squares, with its gradient', () => {
    const got = tf.tidy(() => sumSquares(tf.tensor2d(x, [15, 7])).dataSync());
    const ops = tf.tidy(() => tf.sum(tf.square(tf.tensor2d(x, [15, 7])), 0).dataSync());
    expect(Array.from(got)).toEqual(Array.from(ops));
    tf.tidy(() => {
      const xt = tf.tensor2d(x, [15, 7]);
      const dy = tf.tensor1d(random([7], 20));
      const fusedGrad = tf.grad((a) => sumSquares(a as tf.Tensor2D))(xt, dy);
      const opsGrad = tf.grad((a) => tf.sum(tf.square(a), 0))(xt, dy);
      expect(tf.max(tf.abs(tf.sub(fusedGrad, opsGrad))).dataSync()[0]).toBeLessThan(1e-6);
    });
  });

  it('refuse a weight that does not match the features', () => {
    expect(() => layerNorm(tf.zeros([2, 4]), tf.ones([3]), tf.zeros([3]), 1e-5)).toThrow(/weight \[3\]/);
    expect(() => linear(tf.zeros([2, 4]) as tf.Tensor2D, tf.ones([4, 3]) as tf.Tensor2D, tf.zeros([2]), false)).toThrow(
      /bias \[2\]/,
    );
  });
});

describe('Attention on WASM', () => {
  const shape = { batch: 2, t: 7, heads: 4, kvHeads: 2, dh: 20, scale: 1 / Math.sqrt(20) };
  const q = random([2, 7, 80], 21);
  const k = random([2, 7, 40], 22);
  const v = random([2, 7, 40], 23);
  const tensors = () => [tf.tensor(q, [2, 7, 80]), tf.tensor(k, [2, 7, 40]), tf.tensor(v, [2, 7, 40])] as const;

  it('is the SIMD kernel, value for value, causal or not, with grouped heads', () => {
    expect(fusedAttentionReady()).toBe(true);
    for (const causal of [false, true]) {
      const got = tf.tidy(() => fusedAttention(...tensors(), 20, causal).dataSync());
      expect(Array.from(got)).toEqual(Array.from(attentionReference(q, k, v, { ...shape, causal })));
    }
  });

  it('gives a forward pass what the op-by-op attention gives: GPT-2, ViT, Llama (rotary, grouped heads), heads masked', () => {
    for (const config of [tinyGpt2(), tinyVit(), tinyLlama()]) {
      const weights = toTfWeights(randomHostWeights(config, 3));
      const input =
        config.kind === 'vit'
          ? tf.tensor4d(random([2, 2, 8, 8], 24), [2, 2, 8, 8])
          : tf.tensor2d([[3, 36, 0, 17, 5, 5, 22, 9, 1, 30, 12]], [1, 11], 'int32');
      const heads = config.kind === 'gpt2' ? config.nHead : config.numHeads;
      const masks = { heads: [Array.from({ length: heads }, (_, h) => (h === 1 ? 0 : 1))] };
      for (const options of [{}, { masks }]) {
        const fused = forward(config, weights, input, options).logits;
        // Capturing the attention maps takes the op-by-op path.
        const ops = forward(config, weights, input, { ...options, capture: { attention: true } });
        expect(tf.max(tf.abs(tf.sub(fused, ops.logits))).dataSync()[0]).toBeLessThan(1e-5);
        tf.dispose([fused, ops.logits, ...(ops.attention ?? [])]);
      }
      tf.dispose([input, ...weights.values()]);
    }
  });

  it("stacks a ViT's q, k and v into one product at batches that repay it: the op-by-op logits, heads masked or not", async () => {
    const config = tinyVit();
    const weights = toTfWeights(randomHostWeights(config, 4));
    // 210 images of 5 tokens: 1,050 rows, past the stacking's threshold of 1,024.
    const input = tf.tensor4d(random([210, 2, 8, 8], 25), [210, 2, 8, 8]);
    const masks = { heads: [[1, 0, 1]] };
    for (const options of [{}, { masks }]) {
      let fused: tf.Tensor | undefined;
      const profile = await tf.profile(() => {
        fused = forward(config, weights, input, options).logits;
        return fused;
      });
      const names = profile.kernels.map((k) => k.name);
      expect(names.filter((n) => n === 'EnginePackedAttention')).toHaveLength(config.numLayers);
      expect(names.filter((n) => n === 'EngineAttention')).toHaveLength(0);
      const ops = forward(config, weights, input, { ...options, capture: { attention: true } });
      expect(tf.max(tf.abs(tf.sub(fused!, ops.logits))).dataSync()[0]).toBeLessThan(1e-5);
      tf.dispose([fused!, ops.logits, ...(ops.attention ?? [])]);
    }
    tf.dispose([input, ...weights.values()]);
  });

  it('is left to the op-by-op form under a gradient tape, and frees its scratch', () => {
    const backend = tf.backend();
    const before = backend.numDataIds();
    tf.tidy(() => {
      fusedAttention(...tensors(), 20, true);
      tf.grad((x) => {
        expect(fusedAttentionReady()).toBe(false);
        return tf.sum(x);
      })(tensors()[0]);
      expect(fusedAttentionReady()).toBe(true);
    });
    expect(backend.numDataIds()).toBe(before);
  });
});
