// 128-bit SIMD kernels the engine adds to TensorFlow.js's WASM backend where its own are scalar or
// pay a call per small product. AssemblyScript, compiled by `npm run build:simd` into
// src/engine/backends/simd-binary.ts; the module imports the backend's memory and reads and writes
// its tensors in place, at the byte offsets the backend gives them. No static data, no allocation:
// the memory is the backend's. Every kernel has a plain-TypeScript twin in
// src/engine/backends/simd-reference.ts that rounds each step as this code does (no fused
// multiply-add), so the two agree bit for bit.

// erf(x) as XLA and Eigen compute it in single precision: x·P(x²)/Q(x²) on x clamped to [-4, 4],
// where erf is ±1 in f32. Within 4e-7 of erf (a few units in the last place near ±1).
const A13: f32 = -2.72614225801306e-10;
const A11: f32 = 2.77068142495902e-8;
const A9: f32 = -2.10102402082508e-6;
const A7: f32 = -5.69250639462346e-5;
const A5: f32 = -7.34990630326855e-4;
const A3: f32 = -2.95459980854025e-3;
const A1: f32 = -1.60960333262415e-2;
const B8: f32 = -1.45660718464996e-5;
const B6: f32 = -2.13374055278905e-4;
const B4: f32 = -1.68282697438203e-3;
const B2: f32 = -7.37332916720468e-3;
const B0: f32 = -1.42647390514189e-2;

function madd(a: v128, b: v128, c: f32): v128 {
  return f32x4.add(f32x4.mul(a, b), f32x4.splat(c));
}

function erf4(v: v128): v128 {
  // pmin/pmax (b < a ? b : a): one instruction each on x86 where min/max take seven to order NaN
  // and signed zeros; against a constant bound they agree with min/max on every input, NaN included.
  const x = f32x4.pmax(f32x4.pmin(v, f32x4.splat(4)), f32x4.splat(-4));
  const x2 = f32x4.mul(x, x);
  let p = madd(x2, f32x4.splat(A13), A11);
  p = madd(x2, p, A9);
  p = madd(x2, p, A7);
  p = madd(x2, p, A5);
  p = madd(x2, p, A3);
  p = madd(x2, p, A1);
  p = f32x4.mul(x, p);
  let q = madd(x2, f32x4.splat(B8), B6);
  q = madd(x2, q, B4);
  q = madd(x2, q, B2);
  q = madd(x2, q, B0);
  return f32x4.div(p, q);
}

/** out[i] = erf(x[i]) for i < n (f32 at byte offsets x and out; out may be x). */
export function erf(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + ((<usize>i) << 2), erf4(v128.load(x + ((<usize>i) << 2))));
  for (; i < n; i++) {
    const at = (<usize>i) << 2;
    store<f32>(out + at, f32x4.extract_lane(erf4(f32x4.splat(load<f32>(x + at))), 0));
  }
}

/**
 * c[s] = a[s]·b[s] for each of `batch` slices, a [m, k], b [k, n], c [m, n], row-major and packed
 * (f32 at byte offsets). Each output is Σ_p a[i,p]·b[p,j] summed in order of p from 0: one call for
 * a whole batch of small products (attention's per-head slices). Four rows against eight columns
 * at a time (each row of b read feeds 32 products), then the rows left one at a time.
 */
export function matmul(a: usize, b: usize, c: usize, batch: i32, m: i32, k: i32, n: i32): void {
  const rowA = (<usize>k) << 2;
  const rowB = (<usize>n) << 2;
  for (let s = 0; s < batch; s++) {
    const as = a + <usize>s * <usize>m * rowA;
    const bs = b + <usize>s * <usize>k * rowB;
    const cs = c + <usize>s * <usize>m * rowB;
    let i = 0;
    for (; i + 4 <= m; i += 4) fourRows(as + <usize>i * rowA, bs, cs + <usize>i * rowB, k, n, rowA, rowB, rowB);
    for (; i < m; i++) oneRow(as + <usize>i * rowA, bs, cs + <usize>i * rowB, k, n, rowB);
  }
}

/**
 * Rows c[0, 4) = a[0, 4)·b, a [4, k], b [k, n], c [4, n], rows rowA, rowB and rowC bytes apart:
 * eight, then four columns at a time, then one row at a time for the rest.
 */
function fourRows(a: usize, b: usize, c: usize, k: i32, n: i32, rowA: usize, rowB: usize, rowC: usize): void {
  const zero = f32x4.splat(0);
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    let a0 = zero;
    let b0 = zero;
    let a1 = zero;
    let b1 = zero;
    let a2 = zero;
    let b2 = zero;
    let a3 = zero;
    let b3 = zero;
    let pa = a;
    let pb = b + ((<usize>j) << 2);
    for (let p = 0; p < k; p++) {
      const lo = v128.load(pb);
      const hi = v128.load(pb, 16);
      const s0 = v128.load32_splat(pa);
      const s1 = v128.load32_splat(pa + rowA);
      const s2 = v128.load32_splat(pa + 2 * rowA);
      const s3 = v128.load32_splat(pa + 3 * rowA);
      a0 = f32x4.add(a0, f32x4.mul(s0, lo));
      b0 = f32x4.add(b0, f32x4.mul(s0, hi));
      a1 = f32x4.add(a1, f32x4.mul(s1, lo));
      b1 = f32x4.add(b1, f32x4.mul(s1, hi));
      a2 = f32x4.add(a2, f32x4.mul(s2, lo));
      b2 = f32x4.add(b2, f32x4.mul(s2, hi));
      a3 = f32x4.add(a3, f32x4.mul(s3, lo));
      b3 = f32x4.add(b3, f32x4.mul(s3, hi));
      pa += 4;
      pb += rowB;
    }
    const o = c + ((<usize>j) << 2);
    v128.store(o, a0);
    v128.store(o, b0, 16);
    v128.store(o + rowC, a1);
    v128.store(o + rowC, b1, 16);
    v128.store(o + 2 * rowC, a2);
    v128.store(o + 2 * rowC, b2, 16);
    v128.store(o + 3 * rowC, a3);
    v128.store(o + 3 * rowC, b3, 16);
  }
  for (; j + 4 <= n; j += 4) {
    let a0 = zero;
    let a1 = zero;
    let a2 = zero;
    let a3 = zero;
    let pa = a;
    let pb = b + ((<usize>j) << 2);
    for (let p = 0; p < k; p++) {
      const v = v128.load(pb);
      a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(pa), v));
      a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(pa + rowA), v));
      a2 = f32x4.add(a2, f32x4.mul(v128.load32_splat(pa + 2 * rowA), v));
      a3 = f32x4.add(a3, f32x4.mul(v128.load32_splat(pa + 3 * rowA), v));
      pa += 4;
      pb += rowB;
    }
    const o = c + ((<usize>j) << 2);
    v128.store(o, a0);
    v128.store(o + rowC, a1);
    v128.store(o + 2 * rowC, a2);
    v128.store(o + 3 * rowC, a3);
  }
  for (let r = 0; r < 4; r++) columnsFrom(a + <usize>r * rowA, b, c + <usize>r * rowC, k, n, j, rowB);
}

/** Row c = a·b for one row a [k], b [k, n] with rows rowB bytes apart: 16, then 4 columns at a time, then one. */
function oneRow(a: usize, b: usize, c: usize, k: i32, n: i32, rowB: usize): void {
  let j = 0;
  for (; j + 16 <= n; j += 16) {
    let c0 = f32x4.splat(0);
    let c1 = f32x4.splat(0);
    let c2 = f32x4.splat(0);
    let c3 = f32x4.splat(0);
    let bp = b + ((<usize>j) << 2);
    for (let p = 0; p < k; p++) {
      const av = v128.load32_splat(a + ((<usize>p) << 2));
      c0 = f32x4.add(c0, f32x4.mul(av, v128.load(bp)));
      c1 = f32x4.add(c1, f32x4.mul(av, v128.load(bp, 16)));
      c2 = f32x4.add(c2, f32x4.mul(av, v128.load(bp, 32)));
      c3 = f32x4.add(c3, f32x4.mul(av, v128.load(bp, 48)));
      bp += rowB;
    }
    const cj = c + ((<usize>j) << 2);
    v128.store(cj, c0);
    v128.store(cj, c1, 16);
    v128.store(cj, c2, 32);
    v128.store(cj, c3, 48);
  }
  for (; j + 4 <= n; j += 4) {
    let c0 = f32x4.splat(0);
    let bp = b + ((<usize>j) << 2);
    for (let p = 0; p < k; p++) {
      c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(a + ((<usize>p) << 2)), v128.load(bp)));
      bp += rowB;
    }
    v128.store(c + ((<usize>j) << 2), c0);
  }
  columnsFrom(a, b, c, k, n, j, rowB);
}

/** Columns [j0, n) of row c = a·b, one at a time. */
function columnsFrom(a: usize, b: usize, c: usize, k: i32, n: i32, j0: i32, rowB: usize): void {
  for (let j = j0; j < n; j++) {
    let sum: f32 = 0;
    let bp = b + ((<usize>j) << 2);
    for (let p = 0; p < k; p++) {
      sum += load<f32>(a + ((<usize>p) << 2)) * load<f32>(bp);
      bp += rowB;
    }
    store<f32>(c + ((<usize>j) << 2), sum);
  }
}

/** Floats of b that gemm() packs at a time: 512 KB, which stay in L2 while every row of a passes. */
const GEMM_BLOCK: i32 = 131072;
/** The deepest block of b: past it the sums go back to c between blocks (a layer of 1,024 inputs is one). */
const GEMM_DEPTH: i32 = 1024;

/**
 * c [m, n] = a [m, k] · b, b [k, n] row-major or, where `transposeB`, [n, k] (a linear layer's
 * [out, in] weight) read as its transpose; where `addBias`, each row then plus bias [n]. Each
 * output Σ_p a[i,p]·b[p,j] in order of p from 0, then + bias[j]: matmul()'s sums and a separate
 * add, bit for bit. b is copied a block at a time into `pack` (GEMM_BLOCK floats):
 * the whole depth where k ≤ GEMM_DEPTH, else equal parts of it, and as many columns as fit in
 * GEMM_BLOCK, as panels of eight columns, each panel's rows contiguous: a transposed b costs no
 * more than a plain one, and no row of b lies a page apart from the next. Four rows of a against
 * each panel at a time, the sums carried in c from one block of depth to the next. k > 0.
 */
export function gemm(
  a: usize,
  b: usize,
  c: usize,
  bias: usize,
  pack: usize,
  m: i32,
  k: i32,
  n: i32,
  transposeB: bool,
  addBias: bool,
): void {
  const rowA = (<usize>k) << 2;
  const rowC = (<usize>n) << 2;
  const depths = (k + GEMM_DEPTH - 1) / GEMM_DEPTH;
  const depth = (k + depths - 1) / depths;
  const width = (GEMM_BLOCK / depth) & ~7;
  for (let jc = 0; jc < n; jc += width) {
    const nc = min(width, n - jc);
    for (let pc = 0; pc < k; pc += depth) {
      const kc = min(depth, k - pc);
      if (transposeB) packTransposed(b + ((<usize>pc) << 2), pack, kc, nc, jc, rowA);
      else packPlain(b + <usize>pc * rowC, pack, kc, nc, jc, rowC);
      const first = pc === 0;
      const withBias = addBias && pc + kc >= k;
      const panel = (<usize>kc) << 5;
      const cj = c + ((<usize>jc) << 2);
      const bj = bias + ((<usize>jc) << 2);
      let i = 0;
      for (; i + 4 <= m; i += 4)
        rows4(
          a + <usize>i * rowA + ((<usize>pc) << 2),
          rowA,
          pack,
          kc,
          cj + <usize>i * rowC,
          rowC,
          nc,
          first,
          bj,
          withBias,
        );
      for (; i < m; i++)
        for (let q = 0; q < nc; q += 8)
          tile1(
            a + <usize>i * rowA + ((<usize>pc) << 2),
            pack + <usize>(q >> 3) * panel,
            kc,
            cj + <usize>i * rowC + ((<usize>q) << 2),
            min(8, nc - q),
            first,
            bj + ((<usize>q) << 2),
            withBias,
          );
    }
  }
}

/** Rows [0, kc) of b [·, n] (rows rowB bytes apart), columns [jc, jc + nc), as panels of eight, zero-padded. */
function packPlain(b: usize, pack: usize, kc: i32, nc: i32, jc: i32, rowB: usize): void {
  const panel = (<usize>kc) << 5;
  for (let p = 0; p < kc; p++) {
    const src = b + <usize>p * rowB + ((<usize>jc) << 2);
    const dst = pack + ((<usize>p) << 5);
    let q = 0;
    for (; q + 8 <= nc; q += 8) {
      const at = dst + <usize>(q >> 3) * panel;
      v128.store(at, v128.load(src + ((<usize>q) << 2)));
      v128.store(at, v128.load(src + ((<usize>q) << 2), 16), 16);
    }
    if (q < nc) {
      const at = dst + <usize>(q >> 3) * panel;
      for (let j = 0; j < 8; j++)
        store<f32>(at + ((<usize>j) << 2), q + j < nc ? load<f32>(src + ((<usize>(q + j)) << 2)) : 0);
    }
  }
}

/** The same panels from bᵀ: b's rows [jc, jc + nc) (rowB bytes apart), entries [0, kc) of each. */
function packTransposed(b: usize, pack: usize, kc: i32, nc: i32, jc: i32, rowB: usize): void {
  const panel = (<usize>kc) << 5;
  for (let q = 0; q < nc; q += 8) {
    const dst = pack + <usize>(q >> 3) * panel;
    for (let j = 0; j < 8; j++) {
      const at = dst + ((<usize>j) << 2);
      if (q + j < nc) {
        const src = b + <usize>(jc + q + j) * rowB;
        for (let p = 0; p < kc; p++) store<f32>(at + ((<usize>p) << 5), load<f32>(src + ((<usize>p) << 2)));
      } else for (let p = 0; p < kc; p++) store<f32>(at + ((<usize>p) << 5), 0);
    }
  }
}

/** Lanes [0, cols) of the four floats at p (cols ≥ 4: all four), the rest zero. */
function loadCols(p: usize, cols: i32): v128 {
  if (cols >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  if (cols > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (cols > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (cols > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Writes lanes [0, cols) of v (cols ≥ 4: all four) to p. */
function storeCols(p: usize, v: v128, cols: i32): void {
  if (cols >= 4) {
    v128.store(p, v);
    return;
  }
  if (cols > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (cols > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (cols > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/**
 * c's 4 × nc block (rows rowC bytes apart) += 4 rows of a (rowA bytes apart) over kc entries · the
 * packed panels, eight columns a panel, the last cut to what is left; the sums start from zero
 * where `first`, else from c; + bias where `withBias`. The panels in one call: a call per panel
 * cost a sixth of a product 64 deep.
 */
function rows4(
  a: usize,
  rowA: usize,
  pack: usize,
  kc: i32,
  c0: usize,
  rowC: usize,
  nc: i32,
  first: bool,
  bias0: usize,
  withBias: bool,
): void {
  const zero = f32x4.splat(0);
  const size = (<usize>kc) << 5;
  for (let q = 0; q < nc; q += 8) {
    const cols = min(8, nc - q);
    const rest = cols - 4;
    const c = c0 + ((<usize>q) << 2);
    const bias = bias0 + ((<usize>q) << 2);
    const panel = pack + <usize>(q >> 3) * size;
    let a0 = first ? zero : loadCols(c, cols);
    let b0 = first ? zero : loadCols(c + 16, rest);
    let a1 = first ? zero : loadCols(c + rowC, cols);
    let b1 = first ? zero : loadCols(c + rowC + 16, rest);
    let a2 = first ? zero : loadCols(c + 2 * rowC, cols);
    let b2 = first ? zero : loadCols(c + 2 * rowC + 16, rest);
    let a3 = first ? zero : loadCols(c + 3 * rowC, cols);
    let b3 = first ? zero : loadCols(c + 3 * rowC + 16, rest);
    let pa = a;
    let pb = panel;
    const end = panel + ((<usize>kc) << 5);
    while (pb < end) {
      const lo = v128.load(pb);
      const hi = v128.load(pb, 16);
      let s = v128.load32_splat(pa);
      a0 = f32x4.add(a0, f32x4.mul(s, lo));
      b0 = f32x4.add(b0, f32x4.mul(s, hi));
      s = v128.load32_splat(pa + rowA);
      a1 = f32x4.add(a1, f32x4.mul(s, lo));
      b1 = f32x4.add(b1, f32x4.mul(s, hi));
      s = v128.load32_splat(pa + 2 * rowA);
      a2 = f32x4.add(a2, f32x4.mul(s, lo));
      b2 = f32x4.add(b2, f32x4.mul(s, hi));
      s = v128.load32_splat(pa + 3 * rowA);
      a3 = f32x4.add(a3, f32x4.mul(s, lo));
      b3 = f32x4.add(b3, f32x4.mul(s, hi));
      pa += 4;
      pb += 32;
    }
    if (withBias) {
      const lo = loadCols(bias, cols);
      const hi = loadCols(bias + 16, rest);
      a0 = f32x4.add(a0, lo);
      b0 = f32x4.add(b0, hi);
      a1 = f32x4.add(a1, lo);
      b1 = f32x4.add(b1, hi);
      a2 = f32x4.add(a2, lo);
      b2 = f32x4.add(b2, hi);
      a3 = f32x4.add(a3, lo);
      b3 = f32x4.add(b3, hi);
    }
    storeCols(c, a0, cols);
    storeCols(c + 16, b0, rest);
    storeCols(c + rowC, a1, cols);
    storeCols(c + rowC + 16, b1, rest);
    storeCols(c + 2 * rowC, a2, cols);
    storeCols(c + 2 * rowC + 16, b2, rest);
    storeCols(c + 3 * rowC, a3, cols);
    storeCols(c + 3 * rowC + 16, b3, rest);
  }
}

/** rows4 for one row of a and one panel. */
function tile1(a: usize, panel: usize, kc: i32, c: usize, cols: i32, first: bool, bias: usize, withBias: bool): void {
  const rest = cols - 4;
  let lo = first ? f32x4.splat(0) : loadCols(c, cols);
  let hi = first ? f32x4.splat(0) : loadCols(c + 16, rest);
  let pb = panel;
  for (let p = 0; p < kc; p++) {
    const s = v128.load32_splat(a + ((<usize>p) << 2));
    lo = f32x4.add(lo, f32x4.mul(s, v128.load(pb)));
    hi = f32x4.add(hi, f32x4.mul(s, v128.load(pb, 16)));
    pb += 32;
  }
  if (withBias) {
    lo = f32x4.add(lo, loadCols(bias, cols));
    hi = f32x4.add(hi, loadCols(bias + 16, rest));
  }
  storeCols(c, lo, cols);
  storeCols(c + 16, hi, rest);
}

/** out[i] = exact GELU of x[i], ½x·(1 + erf(x/√2)), rounded step by step as that reads. */
export function geluErf(x: usize, out: usize, n: i32): void {
  const half = f32x4.splat(0.5);
  const one = f32x4.splat(1);
  const root = f32x4.splat(<f32>Math.SQRT1_2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + ((<usize>i) << 2));
    v128.store(out + ((<usize>i) << 2), f32x4.mul(f32x4.mul(v, half), f32x4.add(one, erf4(f32x4.mul(v, root)))));
  }
  for (; i < n; i++) {
    const at = (<usize>i) << 2;
    const v = f32x4.splat(load<f32>(x + at));
    const y = f32x4.mul(f32x4.mul(v, half), f32x4.add(one, erf4(f32x4.mul(v, root))));
    store<f32>(out + at, f32x4.extract_lane(y, 0));
  }
}

/** The sum of x[0, d): four lanes over the blocks of four, added lane 0 to 3, then the tail in order. */
function rowSum(x: usize, d: i32): f32 {
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= d; j += 4) acc = f32x4.add(acc, v128.load(x + ((<usize>j) << 2)));
  let sum =
    f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; j < d; j++) sum += load<f32>(x + ((<usize>j) << 2));
  return sum;
}

/** Σ (x - mean)² over x[0, d), in rowSum's order. */
function rowSquares(x: usize, d: i32, mean: f32): f32 {
  const m = f32x4.splat(mean);
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= d; j += 4) {
    const c = f32x4.sub(v128.load(x + ((<usize>j) << 2)), m);
    acc = f32x4.add(acc, f32x4.mul(c, c));
  }
  let sum =
    f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; j < d; j++) {
    const c = load<f32>(x + ((<usize>j) << 2)) - mean;
    sum += c * c;
  }
  return sum;
}

/**
 * Layer norm over the last axis of x [rows, d]: out = (x - mean)·(1/√(var + eps))·gamma + beta, the
 * mean and the (biased) variance of each row in two passes, as torch.nn.LayerNorm defines it.
 */
export function layerNorm(x: usize, gamma: usize, beta: usize, out: usize, rows: i32, d: i32, eps: f32): void {
  const row = (<usize>d) << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * row;
    const or = out + <usize>r * row;
    const mean = rowSum(xr, d) / <f32>d;
    const scale: f32 = 1 / Mathf.sqrt(rowSquares(xr, d, mean) / <f32>d + eps);
    const m = f32x4.splat(mean);
    const s = f32x4.splat(scale);
    let j = 0;
    for (; j + 4 <= d; j += 4) {
      const at = (<usize>j) << 2;
      const normed = f32x4.mul(f32x4.sub(v128.load(xr + at), m), s);
      v128.store(or + at, f32x4.add(f32x4.mul(normed, v128.load(gamma + at)), v128.load(beta + at)));
    }
    for (; j < d; j++) {
      const at = (<usize>j) << 2;
      store<f32>(or + at, (load<f32>(xr + at) - mean) * scale * load<f32>(gamma + at) + load<f32>(beta + at));
    }
  }
}

// e^x for the logistic function, Cephes' expf: x = n·ln 2 + r with |r| ≤ ½ln 2 (ln 2 in two parts
// so n·ln 2 is exact), e^r by a degree-6 polynomial, 2^n built in the exponent bits. x is clamped to
// [-87, 88] so that 2^n stays a normal number: past those, 1 + e^-t is 1 or huge either way.
const LOG2E: f32 = <f32>Math.LOG2E;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.1219444e-4;
const E5: f32 = 1.98756915e-4;
const E4: f32 = 1.3981999507e-3;
const E3: f32 = 8.3334519073e-3;
const E2: f32 = 4.1665795894e-2;
const E1: f32 = 1.6666665459e-1;
const E0: f32 = 5.0000001201e-1;

const MAGIC: f32 = 12582912;

function exp4(v: v128): v128 {
  const x = f32x4.pmax(f32x4.pmin(v, f32x4.splat(88)), f32x4.splat(-87)); // as erf4's clamp
  // x·log2 e + 1.5·2^23 rounds to the nearest integer n (ties to even, as nearest does) and holds
  // 0x4B400000 + n in its bits: n back as a float by one subtraction, 2^n from the bits.
  const biased = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(MAGIC));
  const n = f32x4.sub(biased, f32x4.splat(MAGIC));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = madd(r, f32x4.splat(E5), E4);
  p = madd(r, p, E3);
  p = madd(r, p, E2);
  p = madd(r, p, E1);
  p = madd(r, p, E0);
  const y = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(biased, i32x4.splat(127 - 0x4b400000)), 23);
  return f32x4.mul(y, scale);
}

/** x·σ(t) = x / (1 + e^-t), the form both GELU's tanh approximation and SiLU take. */
function timesLogistic(x: v128, t: v128): v128 {
  return f32x4.div(x, f32x4.add(f32x4.splat(1), exp4(f32x4.neg(t))));
}

// GELU's tanh approximation ½x(1 + tanh z), z = √(2/π)(x + 0.044715x³), as x·σ(2z), 2z = x·(x²·C + L).
const GELU_L: f32 = 1.5957691216057308; // 2√(2/π)
const GELU_C: f32 = 0.07135481627260025; // 2√(2/π)·0.044715

function geluTanh4(x: v128): v128 {
  const t = f32x4.mul(x, madd(f32x4.mul(x, x), f32x4.splat(GELU_C), GELU_L));
  return timesLogistic(x, t);
}

/**
 * out[i] = GELU (tanh approximation, GPT-2's gelu_new) of x[i]. The last one to three values go
 * through the same vector path, in the low lanes of one vector: one call of geluTanh4, which the
 * compiler then inlines (called twice it does not, and V8 pays a call and the constants' set-up for
 * each vector).
 */
export function geluTanh(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const at = (<usize>i) << 2;
    storeCols(out + at, geluTanh4(loadCols(x + at, n - i)), n - i);
  }
}

/** out[i] = SiLU of x[i], x·σ(x) (Llama's activation). */
export function silu(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + ((<usize>i) << 2));
    v128.store(out + ((<usize>i) << 2), timesLogistic(v, v));
  }
  for (; i < n; i++) {
    const at = (<usize>i) << 2;
    const v = f32x4.splat(load<f32>(x + at));
    store<f32>(out + at, f32x4.extract_lane(timesLogistic(v, v), 0));
  }
}

/**
 * Scaled dot-product attention, softmax(q·kᵀ·scale)·v per head, for q [batch, t, heads·dh] and k, v
 * [batch, t, kvHeads·dh] (query head h reads key/value head ⌊h / (heads / kvHeads)⌋), into out
 * [batch, t, heads·dh]: the layouts the projections give and the output projection takes, so no
 * head is split off or merged back by a copy. A token's q row starts qStride floats after the
 * one before, its k and v rows kvStride: heads·dh and kvHeads·dh apart, or, read where one
 * projection wrote [q | k | v] side by side, its whole width apart. Each key/value head's keys
 * are copied transposed and scaled, then four query rows at a time take two products as matmul()
 * does: their scores, softmax, their outputs. Causal: query i sees keys 0 to i; a block of rows
 * computes the scores of keys up to its last row, and the probabilities past each row's own are
 * zero. Scores are computed for keys rounded up to four (the transposed keys' padding, never
 * read after), which keeps the scalar column loop out. `scratch`: (dh + 4)·t' floats, t' = t
 * rounded up to four.
 */
export function attention(
  q: usize,
  k: usize,
  v: usize,
  out: usize,
  scratch: usize,
  batch: i32,
  t: i32,
  heads: i32,
  kvHeads: i32,
  dh: i32,
  qStride: i32,
  kvStride: i32,
  causal: bool,
  scale: f32,
): void {
  const group = heads / kvHeads;
  const qRow = (<usize>qStride) << 2;
  const kRow = (<usize>kvStride) << 2;
  const oRow = (<usize>(heads * dh)) << 2;
  const head = (<usize>dh) << 2;
  const t4 = (t + 3) & ~3;
  const sRow = (<usize>t4) << 2;
  const kt = scratch;
  const s = scratch + <usize>dh * sRow;
  // The keys' padding: zeros, not whatever the scratch held (a subnormal would slow the products).
  for (let p = 0; p < dh; p++) for (let j = t; j < t4; j++) store<f32>(kt + <usize>p * sRow + ((<usize>j) << 2), 0);
  for (let b = 0; b < batch; b++) {
    const qb = q + <usize>b * <usize>t * qRow;
    const ob = out + <usize>b * <usize>t * oRow;
    for (let g = 0; g < kvHeads; g++) {
      const kg = k + <usize>b * <usize>t * kRow + <usize>g * head;
      const vg = v + <usize>b * <usize>t * kRow + <usize>g * head;
      for (let j = 0; j < t; j++)
        for (let p = 0; p < dh; p++)
          store<f32>(
            kt + <usize>p * sRow + ((<usize>j) << 2),
            load<f32>(kg + <usize>j * kRow + ((<usize>p) << 2)) * scale,
          );
      for (let h = g * group; h < (g + 1) * group; h++) {
        const qh = qb + <usize>h * head;
        const oh = ob + <usize>h * head;
        let i = 0;
        for (; i + 4 <= t; i += 4) {
          const n = causal ? i + 4 : t;
          fourRows(qh + <usize>i * qRow, kt, s, dh, (n + 3) & ~3, qRow, sRow, sRow);
          for (let r = 0; r < 4; r++) {
            const own = causal ? i + r + 1 : t;
            const sr = s + <usize>r * sRow;
            softmaxRow(sr, own);
            for (let j = own; j < n; j++) store<f32>(sr + ((<usize>j) << 2), 0);
          }
          fourRows(s, vg, oh + <usize>i * oRow, n, dh, sRow, kRow, oRow);
        }
        for (; i < t; i++) {
          const n = causal ? i + 1 : t;
          oneRow(qh + <usize>i * qRow, kt, s, dh, (n + 3) & ~3, sRow);
          softmaxRow(s, n);
          oneRow(s, vg, oh + <usize>i * oRow, n, dh, kRow);
        }
      }
    }
  }
}

/**
 * The largest of x[0, n): four lanes by pmax over the blocks of four, then the lanes and the tail by
 * max. pmax passes a NaN over where max keeps it; where the maximum is subtracted before e^x (the
 * softmax, its normaliser) a NaN makes the row's result NaN either way.
 */
function rowMax(x: usize, n: i32): f32 {
  let top = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 4 <= n; j += 4) top = f32x4.pmax(top, v128.load(x + ((<usize>j) << 2)));
  let m = Mathf.max(
    Mathf.max(f32x4.extract_lane(top, 0), f32x4.extract_lane(top, 1)),
    Mathf.max(f32x4.extract_lane(top, 2), f32x4.extract_lane(top, 3)),
  );
  for (; j < n; j++) m = Mathf.max(m, load<f32>(x + ((<usize>j) << 2)));
  return m;
}

/** s[0, n) = softmax of s[0, n): e^(s - max) by exp4, summed as rowSum sums, times 1/sum. */
function softmaxRow(s: usize, n: i32): void {
  const m = rowMax(s, n);
  const mv = f32x4.splat(m);
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const at = (<usize>j) << 2;
    const e = exp4(f32x4.sub(v128.load(s + at), mv));
    v128.store(s + at, e);
    acc = f32x4.add(acc, e);
  }
  let sum =
    f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; j < n; j++) {
    const at = (<usize>j) << 2;
    const e = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(s + at) - m)), 0);
    store<f32>(s + at, e);
    sum += e;
  }
  const inv: f32 = 1 / sum;
  const iv = f32x4.splat(inv);
  j = 0;
  for (; j + 4 <= n; j += 4) v128.store(s + ((<usize>j) << 2), f32x4.mul(v128.load(s + ((<usize>j) << 2)), iv));
  for (; j < n; j++) store<f32>(s + ((<usize>j) << 2), load<f32>(s + ((<usize>j) << 2)) * inv);
}

/**
 * The log-softmax's normaliser log Σ_j e^x[r, j] of each row of x [rows, n], as max + log Σ
 * e^(x - max), but for the logarithm (the caller's: this module takes no library code, whose
 * tables would be data written into the backend's memory): tops[r] = max, sums[r] = the sum of
 * exp4(x - max) as rowSum sums. Reads each row twice and writes nothing the row's size.
 */
export function expSums(x: usize, sums: usize, tops: usize, rows: i32, n: i32): void {
  const row = (<usize>n) << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * row;
    const m = rowMax(xr, n);
    const mv = f32x4.splat(m);
    let acc = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= n; j += 4) acc = f32x4.add(acc, exp4(f32x4.sub(v128.load(xr + ((<usize>j) << 2)), mv)));
    let sum =
      f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    for (; j < n; j++) sum += f32x4.extract_lane(exp4(f32x4.splat(load<f32>(xr + ((<usize>j) << 2)) - m)), 0);
    store<f32>(sums + ((<usize>r) << 2), sum);
    store<f32>(tops + ((<usize>r) << 2), m);
  }
}

/**
 * out[j] = Σ_r x[r, j]² over the rows of x [rows, d] (Wanda's statistic of a layer's inputs), each
 * square rounded and added in order of r: what a sum of the squares over the rows gives, in one
 * pass over x in memory order with no tensor of the squares.
 */
export function sumSquares(x: usize, out: usize, rows: i32, d: i32): void {
  const row = (<usize>d) << 2;
  for (let j = 0; j < d; j++) store<f32>(out + ((<usize>j) << 2), 0);
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * row;
    let j = 0;
    for (; j + 4 <= d; j += 4) {
      const at = (<usize>j) << 2;
      const v = v128.load(xr + at);
      v128.store(out + at, f32x4.add(v128.load(out + at), f32x4.mul(v, v)));
    }
    for (; j < d; j++) {
      const at = (<usize>j) << 2;
      const v = load<f32>(xr + at);
      store<f32>(out + at, load<f32>(out + at) + v * v);
    }
  }
}

/** Rows of x a pass of gram() takes at a time: 64 rows of GPT-2 small's 3,072 inputs are 768 KB. */
const GRAM_ROWS = 64;

/**
 * out [d, d] = xᵀ·x for x [rows, d] row-major: each entry Σ_r x[r,i]·x[r,j] summed in order of r
 * from 0. The upper triangle is computed, four rows of it against eight (then four, then one)
 * columns at a time so that each row of x feeds 32 products from registers, and mirrored: half the
 * work of a product, and no transposed copy of x. The rows go in chunks of GRAM_ROWS that stay in
 * cache while every block of the output passes over them, each block carrying its sums on from
 * the chunk before (the same order of additions).
 */
export function gram(x: usize, out: usize, rows: i32, d: i32): void {
  const row = (<usize>d) << 2;
  for (let r0 = 0; r0 < rows || r0 === 0; r0 += GRAM_ROWS) {
    const chunk = min(GRAM_ROWS, rows - r0);
    gramRows(x + <usize>r0 * row, out, chunk, d, r0 > 0);
  }
  for (let a = 1; a < d; a++)
    for (let b = 0; b < a; b++)
      store<f32>(out + <usize>a * row + ((<usize>b) << 2), load<f32>(out + <usize>b * row + ((<usize>a) << 2)));
}

/** The upper triangle of out += xᵀ·x over `rows` rows of x, or = where `carry` is false. */
function gramRows(x: usize, out: usize, rows: i32, d: i32, carry: bool): void {
  const row = (<usize>d) << 2;
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= d; i += 4) {
    const xi = x + ((<usize>i) << 2);
    let j = i;
    for (; j + 8 <= d; j += 8) {
      const o = out + <usize>i * row + ((<usize>j) << 2);
      let a0 = carry ? v128.load(o) : zero;
      let b0 = carry ? v128.load(o, 16) : zero;
      let a1 = carry ? v128.load(o + row) : zero;
      let b1 = carry ? v128.load(o + row, 16) : zero;
      let a2 = carry ? v128.load(o + 2 * row) : zero;
      let b2 = carry ? v128.load(o + 2 * row, 16) : zero;
      let a3 = carry ? v128.load(o + 3 * row) : zero;
      let b3 = carry ? v128.load(o + 3 * row, 16) : zero;
      let pi = xi;
      let pj = x + ((<usize>j) << 2);
      for (let r = 0; r < rows; r++) {
        const lo = v128.load(pj);
        const hi = v128.load(pj, 16);
        const s0 = v128.load32_splat(pi);
        const s1 = v128.load32_splat(pi, 4);
        const s2 = v128.load32_splat(pi, 8);
        const s3 = v128.load32_splat(pi, 12);
        a0 = f32x4.add(a0, f32x4.mul(s0, lo));
        b0 = f32x4.add(b0, f32x4.mul(s0, hi));
        a1 = f32x4.add(a1, f32x4.mul(s1, lo));
        b1 = f32x4.add(b1, f32x4.mul(s1, hi));
        a2 = f32x4.add(a2, f32x4.mul(s2, lo));
        b2 = f32x4.add(b2, f32x4.mul(s2, hi));
        a3 = f32x4.add(a3, f32x4.mul(s3, lo));
        b3 = f32x4.add(b3, f32x4.mul(s3, hi));
        pi += row;
        pj += row;
      }
      v128.store(o, a0);
      v128.store(o, b0, 16);
      v128.store(o + row, a1);
      v128.store(o + row, b1, 16);
      v128.store(o + 2 * row, a2);
      v128.store(o + 2 * row, b2, 16);
      v128.store(o + 3 * row, a3);
      v128.store(o + 3 * row, b3, 16);
    }
    for (; j + 4 <= d; j += 4) {
      const o = out + <usize>i * row + ((<usize>j) << 2);
      let a0 = carry ? v128.load(o) : zero;
      let a1 = carry ? v128.load(o + row) : zero;
      let a2 = carry ? v128.load(o + 2 * row) : zero;
      let a3 = carry ? v128.load(o + 3 * row) : zero;
      let pi = xi;
      let pj = x + ((<usize>j) << 2);
      for (let r = 0; r < rows; r++) {
        const v = v128.load(pj);
        a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(pi), v));
        a1 = f32x4.add(a1, f32x4.mul(v128.load32_splat(pi, 4), v));
        a2 = f32x4.add(a2, f32x4.mul(v128.load32_splat(pi, 8), v));
        a3 = f32x4.add(a3, f32x4.mul(v128.load32_splat(pi, 12), v));
        pi += row;
        pj += row;
      }
      v128.store(o, a0);
      v128.store(o + row, a1);
      v128.store(o + 2 * row, a2);
      v128.store(o + 3 * row, a3);
    }
    for (; j < d; j++) for (let a = i; a < i + 4; a++) dot(x, out, rows, d, a, j, carry);
  }
  for (; i < d; i++) for (let j = i; j < d; j++) dot(x, out, rows, d, i, j, carry);
}

/** out[i,j] (+)= Σ_r x[r,i]·x[r,j], in order of r. */
function dot(x: usize, out: usize, rows: i32, d: i32, i: i32, j: i32, carry: bool): void {
  const row = (<usize>d) << 2;
  const o = out + <usize>i * row + ((<usize>j) << 2);
  let pi = x + ((<usize>i) << 2);
  let pj = x + ((<usize>j) << 2);
  let sum: f32 = carry ? load<f32>(o) : 0;
  for (let r = 0; r < rows; r++) {
    sum += load<f32>(pi) * load<f32>(pj);
    pi += row;
    pj += row;
  }
  store<f32>(o, sum);
}

// Float64 kernels for SparseGPT's and GPTQ's Hessians (src/engine/pruning/linalg.ts), on a memory of
// their own: the same arithmetic as linalg.ts's plain loops, in the same order, two lanes at a time.

/** Σ a[k]·b[k] over k < len in four partial sums (lanes of two vectors), added (s0 + s1) + (s2 + s3). */
function dot64(a: usize, b: usize, len: i32): f64 {
  let s01 = f64x2.splat(0);
  let s23 = f64x2.splat(0);
  let k = 0;
  for (; k + 3 < len; k += 4) {
    const at = (<usize>k) << 3;
    s01 = f64x2.add(s01, f64x2.mul(v128.load(a + at), v128.load(b + at)));
    s23 = f64x2.add(s23, f64x2.mul(v128.load(a + at, 16), v128.load(b + at, 16)));
  }
  let s0 = f64x2.extract_lane(s01, 0);
  for (; k < len; k++) s0 += load<f64>(a + ((<usize>k) << 3)) * load<f64>(b + ((<usize>k) << 3));
  return s0 + f64x2.extract_lane(s01, 1) + (f64x2.extract_lane(s23, 0) + f64x2.extract_lane(s23, 1));
}

/**
 * Lower-triangular l with a = l·lᵀ (a and l [n, n] row-major f64; l zeroed). Returns -1, or the
 * first pivot j that is not positive, its value left at l[j, j].
 */
export function cholesky64(a: usize, l: usize, n: i32): i32 {
  const row = (<usize>n) << 3;
  for (let j = 0; j < n; j++) {
    const lj = l + <usize>j * row;
    const d = load<f64>(a + <usize>j * row + ((<usize>j) << 3)) - dot64(lj, lj, j);
    if (!(d > 0)) {
      store<f64>(lj + ((<usize>j) << 3), d);
      return j;
    }
    const ljj = Math.sqrt(d);
    store<f64>(lj + ((<usize>j) << 3), ljj);
    for (let i = j + 1; i < n; i++) {
      const li = l + <usize>i * row;
      store<f64>(li + ((<usize>j) << 3), (load<f64>(a + <usize>i * row + ((<usize>j) << 3)) - dot64(li, lj, j)) / ljj);
    }
  }
  return -1;
}

/** x = l⁻¹ for lower-triangular l ([n, n] f64; x zeroed), row by row: (eᵢ − Σₖ lᵢₖ·row k) / lᵢᵢ. */
export function lowerInverse64(l: usize, x: usize, n: i32): void {
  const row = (<usize>n) << 3;
  for (let i = 0; i < n; i++) {
    const xi = x + <usize>i * row;
    const li = l + <usize>i * row;
    store<f64>(xi + ((<usize>i) << 3), 1);
    for (let k = 0; k < i; k++) {
      const f = load<f64>(li + ((<usize>k) << 3));
      if (f === 0) continue;
      const fv = f64x2.splat(f);
      const xk = x + <usize>k * row;
      let j = 0;
      for (; j + 2 <= k + 1; j += 2) {
        const at = (<usize>j) << 3;
        v128.store(xi + at, f64x2.sub(v128.load(xi + at), f64x2.mul(fv, v128.load(xk + at))));
      }
      for (; j <= k; j++) {
        const at = (<usize>j) << 3;
        store<f64>(xi + at, load<f64>(xi + at) - f * load<f64>(xk + at));
      }
    }
    const d = load<f64>(li + ((<usize>i) << 3));
    const dv = f64x2.splat(d);
    let j = 0;
    for (; j + 2 <= i + 1; j += 2) v128.store(xi + ((<usize>j) << 3), f64x2.div(v128.load(xi + ((<usize>j) << 3)), dv));
    for (; j <= i; j++) store<f64>(xi + ((<usize>j) << 3), load<f64>(xi + ((<usize>j) << 3)) / d);
  }
}

/**
 * Keeps exactly `keep` of each row of x [rows, cols] (f32 scores) in mask [rows, cols] (bytes, 0 or
 * 1): every number above the row's keep-th best number, then that number's ties and then NaN, each
 * in position order (select.ts's order: higher first, NaN last, ties to the earlier). The threshold
 * is selected from a copy of the row's numbers in `numbers` (cols floats).
 */
export function rowsTopK(x: usize, rows: i32, cols: i32, keep: i32, numbers: usize, mask: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>cols) << 2);
    const mr = mask + <usize>r * <usize>cols;
    let count = 0;
    for (let c = 0; c < cols; c++) {
      const s = load<f32>(xr + ((<usize>c) << 2));
      if (!F32.isNaN(s)) {
        store<f32>(numbers + ((<usize>count) << 2), s);
        count++;
      }
    }
    const keepNumbers = min(keep, count);
    let threshold = f32.POSITIVE_INFINITY;
    let above = 0;
    if (keepNumbers > 0) {
      threshold = kthSmallest(numbers, count, count - keepNumbers);
      for (let i = 0; i < count; i++) if (load<f32>(numbers + ((<usize>i) << 2)) > threshold) above++;
    }
    let tiesLeft = keepNumbers - above;
    let nanLeft = keep - keepNumbers;
    for (let c = 0; c < cols; c++) {
      const s = load<f32>(xr + ((<usize>c) << 2));
      let kept: u8 = 0;
      if (s > threshold) kept = 1;
      else if (s === threshold && tiesLeft > 0) {
        kept = 1;
        tiesLeft--;
      } else if (nanLeft > 0 && F32.isNaN(s)) {
        kept = 1;
        nanLeft--;
      }
      store<u8>(mr + <usize>c, kept);
    }
  }
}

/** The k-th smallest of a[0, n) (no NaN), a reordered: quickselect, the pivot the median of three. */
function kthSmallest(a: usize, n: i32, k: i32): f32 {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const x = load<f32>(a + ((<usize>lo) << 2));
    const y = load<f32>(a + ((<usize>((lo + hi) >> 1)) << 2));
    const z = load<f32>(a + ((<usize>hi) << 2));
    const pivot = Mathf.max(Mathf.min(x, y), Mathf.min(Mathf.max(x, y), z));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (load<f32>(a + ((<usize>i) << 2)) < pivot) i++;
      while (load<f32>(a + ((<usize>j) << 2)) > pivot) j--;
      if (i <= j) {
        const t = load<f32>(a + ((<usize>i) << 2));
        store<f32>(a + ((<usize>i) << 2), load<f32>(a + ((<usize>j) << 2)));
        store<f32>(a + ((<usize>j) << 2), t);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return load<f32>(a + ((<usize>k) << 2));
  }
  return load<f32>(a + ((<usize>lo) << 2));
}

/** out [rows, cols] = |w| · norm[col] for w [rows, cols]: Wanda's scores, each one f32 product as a loop rounds it. */
export function wandaScores(w: usize, norm: usize, out: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const wr = w + ((<usize>r * <usize>cols) << 2);
    const or = out + ((<usize>r * <usize>cols) << 2);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const at = (<usize>c) << 2;
      v128.store(or + at, f32x4.mul(f32x4.abs(v128.load(wr + at)), v128.load(norm + at)));
    }
    for (; c < cols; c++) {
      const at = (<usize>c) << 2;
      store<f32>(or + at, Mathf.abs(load<f32>(wr + at)) * load<f32>(norm + at));
    }
  }
}
