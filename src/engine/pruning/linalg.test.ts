// The Cholesky factor of a Hessian's inverse, as SparseGPT and GPTQ read it: checked against the
// reference code's route (invert, then factor) and by its definition, on random and badly scaled
// symmetric positive-definite matrices; and the SIMD kernels that compute it against the plain loops
// they stand for, bit for bit.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomArray } from '../model/tiny-models';
import {
  cholesky,
  choleskyLoops,
  inverseUpperCholesky,
  lowerInverse,
  lowerInverseLoops,
  NotPositiveDefiniteError,
} from './linalg';
import { gaussJordanInverse } from './layer-test-support';

/** XᵀX + δI for a random X [m, n], its columns scaled by `scales`. */
function spd(n: number, seed: number, scales: (j: number) => number = () => 1, delta = 1e-3): Float64Array {
  const m = n + 3;
  const x = randomArray(m * n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < m; t++) s += x[t * n + i] * scales(i) * x[t * n + j] * scales(j);
      a[i * n + j] = s + (i === j ? delta : 0);
    }
  return a;
}

const maxRelDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let scale = 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    d = Math.max(d, Math.abs(a[i] - b[i]));
  }
  return d / scale;
};

describe('the upper Cholesky factor of the inverse', () => {
  const cases: [string, number, (j: number) => number][] = [
    ['random', 40, () => 1],
    ['features of very different scales', 33, (j) => 10 ** ((j % 7) - 3)],
    ['one row', 1, () => 2],
  ];
  it.each(cases)('%s: equals the reference route, cholesky(inverse(A)) transposed', (_, n, scales) => {
    const a = spd(n, n, scales);
    const u = inverseUpperCholesky(a, n);
    const rows = Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, i * n + n)));
    const inv = Float64Array.from(gaussJordanInverse(rows).flat());
    const l = cholesky(inv, n);
    const expected = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) expected[j * n + i] = l[i * n + j];
    expect(maxRelDiff(u, expected)).toBeLessThan(1e-8);
    // Upper triangular with a positive diagonal, and UᵀU·A = I.
    for (let i = 0; i < n; i++) {
      expect(u[i * n + i]).toBeGreaterThan(0);
      for (let j = 0; j < i; j++) expect(u[i * n + j]).toBe(0);
    }
    let worst = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) {
          let utu = 0;
          for (let r = 0; r <= Math.min(i, k); r++) utu += u[r * n + i] * u[r * n + k];
          s += utu * a[k * n + j];
        }
        worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
      }
    expect(worst).toBeLessThan(1e-6);
  });

  it('refuses a matrix that is not positive definite', () => {
    const a = Float64Array.from([1, 2, 2, 1]);
    expect(() => inverseUpperCholesky(a, 2)).toThrow(NotPositiveDefiniteError);
  });
});

describe('the Float64 SIMD kernels against their plain loops', () => {
  const equal = (a: Float64Array, b: Float64Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

  it('cholesky and lowerInverse agree bit for bit on random matrices, odd and even sizes, zeros in L', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 37 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.boolean(),
        (n, seed, scaled) => {
          const a = spd(n, seed, scaled ? (j) => 10 ** ((j % 7) - 3) : undefined);
          const l = cholesky(a, n);
          if (!equal(l, choleskyLoops(a, n))) return false;
          // Some entries below the diagonal zero: the rows they would scale are skipped.
          const sparse = l.map((v, k) => (k % 5 === 1 && Math.floor(k / n) > k % n ? 0 : v));
          return equal(lowerInverse(sparse, n), lowerInverseLoops(sparse, n));
        },
      ),
      { numRuns: 80 },
    );
  });

  it('refuse the same matrix at the same pivot', () => {
    const a = spd(9, 4);
    a[5 * 9 + 5] = -1;
    expect(() => cholesky(a, 9)).toThrow(/pivot 5: -/);
    expect(() => choleskyLoops(a, 9)).toThrow(/pivot 5: -/);
    const message = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as Error).message;
      }
      return null;
    };
    expect(message(() => cholesky(a, 9))).toBe(message(() => choleskyLoops(a, 9)));
    const nan = spd(4, 5);
    nan[0] = Number.NaN;
    expect(() => cholesky(nan, 4)).toThrow(NotPositiveDefiniteError);
  });
});
