// A 2:4-pruned linear weight in compressed form (plain TS, no GPU), and the reference twin of the
// GPU products (shaders/nm24-matvec.wgsl, nm24-matmul.wgsl). W is [rows = out features, cols = in
// features] row-major; the products take Xᵀ [cols, n] row-major and give y [n, rows] row-major:
// y[t, r] = Σ W[r, c] · X[t, c] over the stored entries (linear-kernel.ts).
//
// Layout. Each row is cut into G = ceil(cols / 4) groups of 4 consecutive columns (the last one
// shorter when cols % 4 ≠ 0); group g of row r is number q = r · G + g of one row-major stream.
//   values   [rows, G, 2] f32: the group's two slots at values[2q], values[2q + 1];
//   indices  the groups' 4-bit codes, code q in bits 4 · (q % 8) … of word ⌊q / 8⌋ (the last word
//            zero-padded): p0 = bits 0–1, p1 = bits 2–3, in-group positions (column 4g + p).
// Invocations on consecutive groups thus read consecutive 8-byte value pairs and share index words.
//
// The mask, not the value, defines the sparsity: a kept entry is stored even when it is 0 or NaN,
// and an empty slot (a group keeping fewer than 2) holds 0 but adds nothing, as in a CSR product
// of the same mask (adding its 0 · x would turn an infinite x into NaN). The code says which slots
// hold entries, kept entries in ascending column order:
//   p0 < p1  two, slot 0 at p0 and slot 1 at p1;
//   p0 = p1  one, slot 0 at p0;
//   p0 > p1  none, written as p0 = 1, p1 = 0 (EMPTY_GROUP).
// Kernels read x for slot 0 at min(p0, p1) and for slot 1 at p1, then drop the empty slots'
// products: both columns lie inside the row for every code. (The field p0 = 1 of an empty group
// of length 1 lies past the row; no 4 bits can tell "kept" from "empty" there with in-row
// positions alone, and min(p0, p1) = 0 is what is read.)
import { checkShape, checkTokens } from './csr';

export interface Nm24Matrix {
  rows: number;
  cols: number;
  /** [rows, G, 2]: each group's two slots, 0 in an empty one. */
  values: Float32Array;
  /** ceil(rows · G / 8) words of 4-bit group codes (see the layout above). */
  indices: Uint32Array;
}

const EMPTY_GROUP = 0b0001;

/** Groups per row: G = ceil(cols / 4). */
export function nm24Groups(cols: number): number {
  return Math.ceil(cols / 4);
}

const indexWords = (rows: number, cols: number) => Math.ceil((rows * nm24Groups(cols)) / 8);

/** Bytes a rows × cols weight takes in this format: 8 per group of values, 4 bits per group of codes. */
export function nm24Bytes(rows: number, cols: number): number {
  return 4 * (2 * rows * nm24Groups(cols) + indexWords(rows, cols));
}

const codeOf = (indices: Uint32Array, q: number) => (indices[q >>> 3] >>> ((q & 7) * 4)) & 15;

/**
 * Compresses `w` [rows, cols] keeping the entries whose mask is nonzero. Throws when a group
 * keeps more than 2 (nmMask(…, 2, 4) of pruning/nm.ts keeps exactly 2 of 4, and round(L / 2) of a last
 * group of length L).
 */
export function toNm24(w: Float32Array, mask: Uint8Array, rows: number, cols: number): Nm24Matrix {
  checkShape('toNm24', rows, cols);
  if (w.length !== rows * cols) throw new Error(`toNm24: ${w.length} weights for ${rows}×${cols}`);
  if (mask.length !== rows * cols) throw new Error(`toNm24: ${mask.length} mask entries for ${rows}×${cols}`);
  const groups = nm24Groups(cols);
  const values = new Float32Array(2 * rows * groups);
  const indices = new Uint32Array(indexWords(rows, cols));
  const at = [0, 0];
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const first = r * cols + 4 * g;
      const len = Math.min(4, cols - 4 * g);
      let kept = 0;
      for (let p = 0; p < len; p++) {
        if (!mask[first + p]) continue;
        if (kept < 2) at[kept] = p;
        kept++;
      }
      if (kept > 2) {
        throw new Error(
          `toNm24: row ${r}, group ${g} (columns ${4 * g}–${4 * g + len - 1}) keeps ${kept} entries; 2:4 stores at most 2 of every 4`,
        );
      }
      const q = r * groups + g;
      for (let s = 0; s < kept; s++) values[2 * q + s] = w[first + at[s]];
      const code = kept === 2 ? at[0] | (at[1] << 2) : kept === 1 ? at[0] * 0b0101 : EMPTY_GROUP;
      indices[q >>> 3] |= code << ((q & 7) * 4);
    }
  }
  return { rows, cols, values, indices };
}

/**
 * Throws unless `m` is well formed: array lengths match the shape, and every column a kernel reads
 * lies inside its row (only a last, shorter group can break that).
 */
export function checkNm24(name: string, m: Nm24Matrix): void {
  const { rows, cols, values, indices } = m;
  checkShape(name, rows, cols);
  const groups = nm24Groups(cols);
  if (values.length !== 2 * rows * groups)
    throw new Error(`${name}: ${values.length} values for ${rows}×${groups} groups of 2`);
  if (indices.length !== indexWords(rows, cols))
    throw new Error(`${name}: ${indices.length} index words for ${rows}×${groups} groups`);
  const lastLen = cols - 4 * (groups - 1);
  if (lastLen === 4) return;
  for (let r = 0; r < rows; r++) {
    const code = codeOf(indices, r * groups + groups - 1);
    const p1 = code >>> 2;
    if (p1 >= lastLen || Math.min(code & 3, p1) >= lastLen)
      throw new Error(`${name}: row ${r}'s last group (length ${lastLen}) has code ${code}, reading past the row`);
  }
}

/** y [n, rows] = X · Wᵀ over the stored entries (sums in f64, each output rounded to f32 once). */
export function nm24MatmulReference(m: Nm24Matrix, xT: Float32Array, n: number): Float32Array {
  checkTokens('nm24MatmulReference', m.cols, xT, n);
  const groups = nm24Groups(m.cols);
  const y = new Float32Array(n * m.rows);
  for (let r = 0; r < m.rows; r++) {
    for (let t = 0; t < n; t++) {
      let sum = 0;
      for (let g = 0, q = r * groups; g < groups; g++, q++) {
        const code = codeOf(m.indices, q);
        const [p0, p1] = [code & 3, code >>> 2];
        if (p0 <= p1) sum += m.values[2 * q] * xT[(4 * g + p0) * n + t];
        if (p0 < p1) sum += m.values[2 * q + 1] * xT[(4 * g + p1) * n + t];
      }
      y[t * m.rows + r] = sum;
    }
  }
  return y;
}
