// The plain-TypeScript twins of the SIMD kernels in assembly/simd.ts: the same operations in the same
// order, each rounded to f32 as the kernel rounds it (no fused multiply-add), so a kernel and its
// twin agree bit for bit (simd.test.ts).

const f = Math.fround;

// XLA's and Eigen's single-precision erf: x·P(x²)/Q(x²) on x clamped to [-4, 4].
const P = [
  -2.72614225801306e-10, 2.77068142495902e-8, -2.10102402082508e-6, -5.69250639462346e-5, -7.34990630326855e-4,
  -2.95459980854025e-3, -1.60960333262415e-2,
].map(f);
const Q = [
  -1.45660718464996e-5, -2.13374055278905e-4, -1.68282697438203e-3, -7.37332916720468e-3, -1.42647390514189e-2,
].map(f);

export function erfReference(v: number): number {
  const x = Math.max(Math.min(f(v), 4), -4);
  const x2 = f(x * x);
  let p = P[0]!;
  for (let i = 1; i < P.length; i++) p = f(f(x2 * p) + P[i]!);
  p = f(x * p);
  let q = Q[0]!;
  for (let i = 1; i < Q.length; i++) q = f(f(x2 * q) + Q[i]!);
  return f(p / q);
}

/** c[s] = a[s]·b[s] over `batch` packed slices, a [m, k], b [k, n]; each sum in order of p from 0. */
export function matmulReference(
  a: Float32Array,
  b: Float32Array,
  batch: number,
  m: number,
  k: number,
  n: number,
): Float32Array {
  const c = new Float32Array(batch * m * n);
  for (let s = 0; s < batch; s++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum = f(sum + f(a[(s * m + i) * k + p]! * b[(s * k + p) * n + j]!));
        c[(s * m + i) * n + j] = sum;
      }
  return c;
}

/**
 * c = a·b (+ bias) for a [m, k] and b [k, n] or, `transposeB`, [n, k]: each sum in order of p from
 * 0, then + bias[j] (gemm's blocks of depth carry their sums on, so the order is the same).
 */
export function gemmReference(
  a: Float32Array,
  b: Float32Array,
  bias: Float32Array | null,
  m: number,
  k: number,
  n: number,
  transposeB: boolean,
): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum = f(sum + f(a[i * k + p]! * b[transposeB ? j * k + p : p * n + j]!));
      c[i * n + j] = bias ? f(sum + bias[j]!) : sum;
    }
  return c;
}

/** Exact GELU, ½x·(1 + erf(x/√2)), rounded step by step as the kernel (and the op-by-op form) does. */
export function geluErfReference(x: number): number {
  const v = f(x);
  return f(f(v * 0.5) * f(1 + erfReference(f(v * f(Math.SQRT1_2)))));
}

/** The kernel's row sum: lane l adds x[l], x[l+4], … of the blocks of four; lanes 0 to 3, then the tail. */
function rowSum(x: Float32Array, at: number, d: number, term: (v: number) => number): number {
  const lanes = [0, 0, 0, 0];
  let j = 0;
  for (; j + 4 <= d; j += 4) for (let l = 0; l < 4; l++) lanes[l] = f(lanes[l]! + term(x[at + j + l]!));
  let sum = f(f(f(lanes[0]! + lanes[1]!) + lanes[2]!) + lanes[3]!);
  for (; j < d; j++) sum = f(sum + term(x[at + j]!));
  return sum;
}

/** Layer norm over the last axis of x [rows, d], as the kernel computes it. */
export function layerNormReference(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  rows: number,
  d: number,
  eps: number,
): Float32Array {
  const out = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const at = r * d;
    const mean = f(rowSum(x, at, d, (v) => v) / d);
    const variance = f(
      rowSum(x, at, d, (v) => {
        const c = f(v - mean);
        return f(c * c);
      }) / d,
    );
    const scale = f(1 / f(Math.sqrt(f(variance + f(eps)))));
    for (let j = 0; j < d; j++) out[at + j] = f(f(f(f(x[at + j]! - mean) * scale) * gamma[j]!) + beta[j]!);
  }
  return out;
}

/** Rounds half to even, as WebAssembly's nearest does. */
function nearest(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const EXP = [1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1].map(f);

/** The kernel's e^x (Cephes' expf on x clamped to [-87, 88]). */
export function expReference(v: number): number {
  const x = Math.max(Math.min(f(v), 88), -87);
  const n = nearest(f(x * f(Math.LOG2E)));
  const r = f(f(x - f(n * f(0.693359375))) - f(n * f(-2.1219444e-4)));
  let p = EXP[0]!;
  for (let i = 1; i < EXP.length; i++) p = f(f(r * p) + EXP[i]!);
  const y = f(f(f(p * f(r * r)) + r) + 1);
  // 2^n for n in [-126, 127]: what the kernel writes into the exponent bits (NaN's n reads as 0).
  return f(y * 2 ** (Number.isNaN(n) ? 0 : n));
}

const timesLogistic = (x: number, t: number) => f(x / f(1 + expReference(f(-t))));

const GELU_L = f(2 * Math.sqrt(2 / Math.PI));
const GELU_C = f(2 * Math.sqrt(2 / Math.PI) * 0.044715);

/** GELU's tanh approximation as the kernel computes it: x·σ(x·(x²·C + L)). */
export function geluTanhReference(v: number): number {
  const x = f(v);
  return timesLogistic(x, f(x * f(f(f(x * x) * GELU_C) + GELU_L)));
}

/** SiLU, x·σ(x), as the kernel computes it. */
export function siluReference(v: number): number {
  const x = f(v);
  return timesLogistic(x, x);
}

/** xᵀ·x for x [rows, d], each entry summed in order of r from 0 as the kernel sums it. */
export function gramReference(x: Float32Array, rows: number, d: number): Float32Array {
  const out = new Float32Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum = f(sum + f(x[r * d + i]! * x[r * d + j]!));
      out[i * d + j] = sum;
    }
  return out;
}

/**
 * Attention as the kernel computes it: q [batch, t, heads·dh], k and v [batch, t, kvHeads·dh], out
 * [batch, t, heads·dh]. Each score is Σ_p q·(k·scale) in order of p; the softmax's e^x is
 * expReference and its sum adds as rowSum does; each output is Σ_j p_j·v_j in order of j over the
 * keys of the row's block of four (causal: up to the block's last row, the probabilities past the
 * row's own being zero), or of the row alone for the rows after the last whole block.
 */
export function attentionReference(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  { batch, t, heads, kvHeads, dh, causal, scale }: AttentionShape,
): Float32Array {
  const out = new Float32Array(batch * t * heads * dh);
  const qRow = heads * dh;
  const kRow = kvHeads * dh;
  const s = new Float32Array(t);
  const blocks = t - (t % 4);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / (heads / kvHeads));
      const key = (j: number) => (b * t + j) * kRow + g * dh;
      for (let i = 0; i < t; i++) {
        const own = causal ? i + 1 : t;
        const n = causal && i < blocks ? i - (i % 4) + 4 : own;
        const qAt = (b * t + i) * qRow + h * dh;
        for (let j = 0; j < own; j++) {
          let sum = 0;
          for (let p = 0; p < dh; p++) sum = f(sum + f(q[qAt + p]! * f(k[key(j) + p]! * f(scale))));
          s[j] = sum;
        }
        const m = rowMax(s, 0, own);
        for (let j = 0; j < own; j++) s[j] = expReference(f(s[j]! - m));
        const inv = f(1 / rowSum(s, 0, own, (x) => x));
        for (let j = 0; j < n; j++) s[j] = j < own ? f(s[j]! * inv) : 0;
        for (let c = 0; c < dh; c++) {
          let sum = 0;
          for (let j = 0; j < n; j++) sum = f(sum + f(s[j]! * v[key(j) + c]!));
          out[qAt + c] = sum;
        }
      }
    }
  return out;
}

/**
 * The kernel's row maximum: lane l keeps the larger of itself and x[l], x[l+4], … of the blocks of
 * four as pmax does (a NaN passes over), then lanes and tail by max (a NaN there is kept).
 */
function rowMax(x: Float32Array, at: number, d: number): number {
  const lanes = [-Infinity, -Infinity, -Infinity, -Infinity];
  let j = 0;
  for (; j + 4 <= d; j += 4) for (let l = 0; l < 4; l++) if (lanes[l]! < x[at + j + l]!) lanes[l] = x[at + j + l]!;
  let m = Math.max(Math.max(lanes[0]!, lanes[1]!), Math.max(lanes[2]!, lanes[3]!));
  for (; j < d; j++) m = Math.max(m, x[at + j]!);
  return m;
}

/** The kernel's Σ_j e^(x[r, j] - max) and max of each row of x [rows, n]. */
export function expSumsReference(x: Float32Array, rows: number, n: number): { sums: Float32Array; tops: Float32Array } {
  const sums = new Float32Array(rows);
  const tops = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const m = rowMax(x, r * n, n);
    sums[r] = rowSum(x, r * n, n, (v) => expReference(f(v - m)));
    tops[r] = m;
  }
  return { sums, tops };
}

/** log Σ_j e^x[r, j] of each row, from the kernel's sums: max + log Σ e^(x - max), rounded once each. */
export function logSumExpReference(x: Float32Array, rows: number, n: number): Float32Array {
  const { sums, tops } = expSumsReference(x, rows, n);
  return tops.map((m, r) => f(m + f(Math.log(sums[r]!))));
}

/** Σ_r x[r, j]² of each column of x [rows, d], each square rounded and added in order of r. */
export function sumSquaresReference(x: Float32Array, rows: number, d: number): Float32Array {
  const out = new Float32Array(d);
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) out[j] = f(out[j]! + f(x[r * d + j]! * x[r * d + j]!));
  return out;
}

export interface AttentionShape {
  batch: number;
  t: number;
  heads: number;
  kvHeads: number;
  dh: number;
  causal: boolean;
  scale: number;
}
