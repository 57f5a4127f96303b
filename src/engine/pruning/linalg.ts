// Small dense linear algebra in float64 for the Hessians of SparseGPT and GPTQ (up to a few
// thousand rows): the Cholesky factorisation, and the upper Cholesky factor of a symmetric
// positive-definite matrix's inverse, which their column sweeps read. Row-major Float64Arrays; the
// inner loops run along rows, so that a 3,072-row Hessian (GPT-2 small's FFN output) stays in cache
// order.

// Both run as the engine's SIMD kernels (assembly/simd.ts: cholesky64, lowerInverse64) where WebAssembly
// SIMD is there: the same arithmetic in the same order two lanes at a time, so bit for bit these
// loops' results (linalg.test.ts), 3× faster. The loops below are the kernels' twins and the fallback.
import { simdScratch } from '../backends/wasm-simd';

export class NotPositiveDefiniteError extends Error {}

const notPositive = (j: number, d: number) =>
  new NotPositiveDefiniteError(`matrix is not positive definite (pivot ${j}: ${d})`);

/** Lower-triangular L with A = L·Lᵀ. */
export function cholesky(a: Float64Array, n: number): Float64Array {
  const scratch = simdScratch(16 * n * n);
  if (!scratch) return choleskyLoops(a, n);
  const { kernels, memory } = scratch;
  new Float64Array(memory.buffer, 0, n * n).set(a.subarray(0, n * n));
  const failed = kernels.cholesky64(0, 8 * n * n, n);
  const l = new Float64Array(memory.buffer, 8 * n * n, n * n);
  if (failed >= 0) throw notPositive(failed, l[failed * n + failed]!);
  return l.slice();
}

/** cholesky's plain loops. */
export function choleskyLoops(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const d = a[j * n + j] - dot(l, j * n, l, j * n, j);
    if (!(d > 0)) throw notPositive(j, d);
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      l[i * n + j] = (a[i * n + j] - dot(l, i * n, l, j * n, j)) / ljj;
    }
  }
  return l;
}

/**
 * Σ a[aAt + k]·b[bAt + k] over k < len, in four interleaved partial sums: one running sum waits on
 * each addition before the next, four keep the floating-point unit busy (the factorisation 2×).
 */
function dot(a: Float64Array, aAt: number, b: Float64Array, bAt: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < len; k += 4) {
    s0 += a[aAt + k] * b[bAt + k];
    s1 += a[aAt + k + 1] * b[bAt + k + 1];
    s2 += a[aAt + k + 2] * b[bAt + k + 2];
    s3 += a[aAt + k + 3] * b[bAt + k + 3];
  }
  for (; k < len; k++) s0 += a[aAt + k] * b[bAt + k];
  return s0 + s1 + (s2 + s3);
}

/** L⁻¹ of a lower-triangular L. */
export function lowerInverse(l: Float64Array, n: number): Float64Array {
  const scratch = simdScratch(16 * n * n);
  if (!scratch) return lowerInverseLoops(l, n);
  const { kernels, memory } = scratch;
  new Float64Array(memory.buffer, 0, n * n).set(l.subarray(0, n * n));
  kernels.lowerInverse64(0, 8 * n * n, n);
  return new Float64Array(memory.buffer, 8 * n * n, n * n).slice();
}

/** lowerInverse's plain loops, row by row: row i is (eᵢ − Σₖ₍ₖ₌₀…ᵢ₋₁₎ Lᵢₖ·row k) / Lᵢᵢ. */
export function lowerInverseLoops(l: Float64Array, n: number): Float64Array {
  const x = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    x[row + i] = 1;
    for (let k = 0; k < i; k++) {
      const f = l[row + k];
      if (f === 0) continue;
      const other = k * n;
      for (let j = 0; j <= k; j++) x[row + j] -= f * x[other + j];
    }
    const d = l[row + i];
    for (let j = 0; j <= i; j++) x[row + j] /= d;
  }
  return x;
}

/**
 * Upper-triangular U with A⁻¹ = Uᵀ·U, A symmetric positive definite: what the reference code gets
 * as cholesky(cholesky_inverse(cholesky(A)), upper=True), in one factorisation and one triangular
 * inverse. With J the order reversal, JAJ = L·Lᵀ gives A⁻¹ = J·L⁻ᵀ·L⁻¹·J = Uᵀ·U for U = J·L⁻¹·J,
 * upper triangular with a positive diagonal: the unique such factor.
 */
export function inverseUpperCholesky(a: Float64Array, n: number): Float64Array {
  const reversed = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) reversed[i * n + j] = a[(n - 1 - i) * n + (n - 1 - j)];
  const li = lowerInverse(cholesky(reversed, n), n);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) u[(n - 1 - i) * n + (n - 1 - j)] = li[i * n + j];
  return u;
}
