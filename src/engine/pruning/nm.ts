// N:M semi-structured sparsity (e.g. 2:4, which NVIDIA's sparse tensor cores run at twice the dense
// rate; Mishra et al. 2021, "Accelerating Sparse Deep Neural Networks"): in every group of M
// consecutive weights along the input dimension, only N are kept. Works with any method's scores.
import { better } from './select';

/**
 * N:M semi-structured: along each row of a [rows, cols] score matrix (cols = input features),
 * every group of M consecutive entries keeps its best N. A last, shorter group keeps
 * round(N/M · its length) so the density stays N/M.
 */
export function nmMask(scores: ArrayLike<number>, rows: number, cols: number, n: number, m: number): Uint8Array {
  if (!(Number.isInteger(n) && Number.isInteger(m) && n >= 0 && n < m))
    throw new Error(`N:M needs integers 0 ≤ N < M, got ${n}:${m}`);
  const mask = new Uint8Array(rows * cols);
  const idx: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols; g += m) {
      const len = Math.min(m, cols - g);
      const keep = len === m ? n : Math.round((n * len) / m);
      idx.length = 0;
      for (let c = 0; c < len; c++) idx.push(r * cols + g + c);
      idx.sort((a, b) => better(scores, a, b));
      for (let c = 0; c < keep; c++) mask[idx[c]] = 1;
    }
  }
  return mask;
}
