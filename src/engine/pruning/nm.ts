// N:M semi-structured sparsity (e.g. 2:4, which NVIDIA's sparse tensor cores run at twice the dense
// rate; Mishra et al. 2021, "Accelerating Sparse Deep Neural Networks"): in every group of M
// consecutive weights along the input dimension, only N are kept. Works with any method's scores.

/**
 * N:M semi-structured: along each row of a [rows, cols] score matrix (cols = input features),
 * every group of M consecutive entries keeps its best N (ranked as `better` ranks them: higher
 * first, NaN last, ties to the earlier). A last, shorter group keeps round(N/M · its length) so
 * the density stays N/M.
 */
export function nmMask(scores: ArrayLike<number>, rows: number, cols: number, n: number, m: number): Uint8Array {
  if (!(Number.isInteger(n) && Number.isInteger(m) && n >= 0 && n < m))
    throw new Error(`N:M needs integers 0 ≤ N < M, got ${n}:${m}`);
  const mask = new Uint8Array(rows * cols);
  // A group's entries ranked by insertion (M is small), in place of a sort with a comparator,
  // which cost a closure call per comparison and an array per group: 2:4 over a whole model's
  // weights runs at every slider step.
  const order = new Int32Array(m);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols; g += m) {
      const start = r * cols + g;
      const len = Math.min(m, cols - g);
      const keep = len === m ? n : Math.round((n * len) / m);
      for (let c = 0; c < len; c++) {
        const x = scores[start + c];
        let j = c;
        while (j > 0 && ranksBelow(scores[start + order[j - 1]], x)) {
          order[j] = order[j - 1];
          j--;
        }
        order[j] = c;
      }
      for (let c = 0; c < keep; c++) mask[start + order[c]] = 1;
    }
  }
  return mask;
}

/** Whether score x ranks strictly below y: a number below a larger one, NaN below any number. */
function ranksBelow(x: number, y: number): boolean {
  return Number.isNaN(x) ? !Number.isNaN(y) : x < y;
}
