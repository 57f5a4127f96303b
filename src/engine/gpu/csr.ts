// A pruned linear weight in compressed sparse row form (plain TS, no GPU), and the reference twins of
// the GPU products (shaders/csr-matvec.wgsl, csr-matmul.wgsl, dense-matvec.wgsl). The weight W is
// [rows = out features, cols = in features] row-major; the products take Xᵀ [cols, n] row-major
// and give y [n, rows] row-major: y[t, r] = Σ_c W[r, c] · X[t, c] (linear-kernel.ts).
//
// The mask, not the value, defines the sparsity: a kept weight is stored even when it is 0 or NaN,
// so the sparse product is the dense product of the masked weight only where no ∞ or NaN meets a
// pruned entry (0 · ∞ is NaN in the dense product, absent in the sparse one).

export interface CsrMatrix {
  rows: number;
  cols: number;
  /** rows + 1 offsets into colIdx/values: row r holds entries rowPtr[r] .. rowPtr[r + 1] − 1. */
  rowPtr: Uint32Array;
  /** The column of each stored entry, ascending within a row. */
  colIdx: Uint32Array;
  values: Float32Array;
}

/** Throws unless rows × cols is a shape whose entries a u32 index reaches. */
export function checkShape(name: string, rows: number, cols: number): void {
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows > 0 && cols > 0))
    throw new Error(`${name}: bad shape ${rows}×${cols}`);
  if (rows * cols >= 2 ** 32) throw new Error(`${name}: ${rows}×${cols} entries exceed 32-bit indices`);
}

/** The entries of `w` [rows, cols] whose mask is 1 (all of them for a null mask). */
export function toCsr(w: Float32Array, mask: Uint8Array | null, rows: number, cols: number): CsrMatrix {
  checkShape('toCsr', rows, cols);
  if (w.length !== rows * cols) throw new Error(`toCsr: ${w.length} weights for ${rows}×${cols}`);
  if (mask && mask.length !== rows * cols) throw new Error(`toCsr: ${mask.length} mask entries for ${rows}×${cols}`);
  let nnz = rows * cols;
  if (mask) {
    nnz = 0;
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] > 1) throw new Error(`toCsr: mask entry ${i} is ${mask[i]}, not 0 or 1`);
      nnz += mask[i];
    }
  }
  const rowPtr = new Uint32Array(rows + 1);
  const colIdx = new Uint32Array(nnz);
  const values = new Float32Array(nnz);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0, i = r * cols; c < cols; c++, i++) {
      if (mask && !mask[i]) continue;
      colIdx[k] = c;
      values[k++] = w[i];
    }
    rowPtr[r + 1] = k;
  }
  return { rows, cols, rowPtr, colIdx, values };
}

/** Throws unless `csr` is well formed: row pointers from 0, non-decreasing, to nnz; columns in range. */
export function checkCsr(name: string, csr: CsrMatrix): void {
  const { rows, cols, rowPtr, colIdx, values } = csr;
  checkShape(name, rows, cols);
  if (rowPtr.length !== rows + 1) throw new Error(`${name}: ${rowPtr.length} row pointers for ${rows} rows`);
  const nnz = rowPtr[rows];
  if (colIdx.length !== nnz || values.length !== nnz)
    throw new Error(`${name}: ${colIdx.length} columns and ${values.length} values for ${nnz} entries`);
  for (let r = 0; r < rows; r++) {
    if (rowPtr[r] > rowPtr[r + 1] || (r === 0 && rowPtr[0] !== 0))
      throw new Error(`${name}: row pointers must rise from 0 (row ${r})`);
  }
  for (let k = 0; k < nnz; k++) {
    if (colIdx[k] >= cols) throw new Error(`${name}: entry ${k} has column ${colIdx[k]} ≥ ${cols}`);
  }
}

/** Bytes the matrix takes on the GPU: row pointers, column indices and values, 4 bytes each. */
export function csrBytes(csr: CsrMatrix): number {
  return 4 * (csr.rowPtr.length + csr.colIdx.length + csr.values.length);
}

/** Throws unless n is a positive integer and xT holds Xᵀ [cols, n]. */
export function checkTokens(name: string, cols: number, xT: Float32Array, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: n must be a positive integer, got ${n}`);
  if (xT.length !== cols * n) throw new Error(`${name}: xT has ${xT.length} values, want ${cols}×${n}`);
}

/** y [n, rows] = X · Wᵀ over the stored entries (sums in f64, each output rounded to f32 once). */
export function csrMatmulReference(csr: CsrMatrix, xT: Float32Array, n: number): Float32Array {
  checkTokens('csrMatmulReference', csr.cols, xT, n);
  const y = new Float32Array(n * csr.rows);
  for (let r = 0; r < csr.rows; r++) {
    for (let t = 0; t < n; t++) {
      let sum = 0;
      for (let k = csr.rowPtr[r]; k < csr.rowPtr[r + 1]; k++) sum += csr.values[k] * xT[csr.colIdx[k] * n + t];
      y[t * csr.rows + r] = sum;
    }
  }
  return y;
}

/** y [n, rows] = X · Wᵀ over every entry of the dense `w` [rows, cols]. */
export function denseMatmulReference(
  w: Float32Array,
  rows: number,
  cols: number,
  xT: Float32Array,
  n: number,
): Float32Array {
  checkShape('denseMatmulReference', rows, cols);
  if (w.length !== rows * cols) throw new Error(`denseMatmulReference: ${w.length} weights for ${rows}×${cols}`);
  checkTokens('denseMatmulReference', cols, xT, n);
  const y = new Float32Array(n * rows);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < n; t++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += w[r * cols + c] * xT[c * n + t];
      y[t * rows + r] = sum;
    }
  }
  return y;
}

/**
 * Σ|w · x| per output over the stored entries: the size of the rounding a different summation
 * order can cause, the tolerance scale of parity checks (test-gpu.ts's expectClose).
 */
export function csrProductScale(csr: CsrMatrix, xT: Float32Array, n: number): Float32Array {
  return csrMatmulReference({ ...csr, values: csr.values.map(Math.abs) }, xT.map(Math.abs), n);
}
