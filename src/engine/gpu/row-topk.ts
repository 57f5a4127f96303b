// Per-row top-k masks on the GPU (Wanda's comparison group: each output row keeps its best
// `keep`), shaders/row-topk.wgsl. Same selection as pruning/select.ts's rowTopKMask, its reference
// twin: ties by position, NaN last.
import type { GpuKernels, GpuTensor } from './kernels';
import { maskWords } from './bitmask';

export interface MatrixShape {
  rows: number;
  cols: number;
}

export function checkMatrix(name: string, scores: GpuTensor, { rows, cols }: MatrixShape): void {
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows >= 0 && cols > 0))
    throw new Error(`${name}: bad shape ${rows}×${cols}`);
  if (scores.length !== rows * cols) throw new Error(`${name}: ${scores.length} scores for ${rows}×${cols}`);
  if (rows * cols >= 2 ** 32) throw new Error(`${name}: ${rows}×${cols} entries exceed 32-bit indices`);
}

/** Submits the selection; returns the bitmask buffer (bitmask.ts layout; yours to destroy). */
export function rowTopK(
  kernels: GpuKernels,
  scores: GpuTensor,
  shape: MatrixShape,
  keep: number,
  options: { magnitude?: boolean } = {},
): GPUBuffer {
  checkMatrix('row top-k', scores, shape);
  if (!Number.isInteger(keep) || keep < 0 || keep > shape.cols)
    throw new Error(`row top-k: keep must be an integer in [0, ${shape.cols}], got ${keep}`);
  const mask = kernels.storage(maskWords(scores.length) * 4, 'row top-k mask');
  const params = kernels.uniform(new Uint32Array([shape.rows, shape.cols, keep]), 'row top-k params');
  const pipeline = kernels.pipeline('rowTopK', { MAGNITUDE: options.magnitude ? 1 : 0 });
  const encoder = kernels.device.createCommandEncoder({ label: 'row top-k' });
  encoder.clearBuffer(mask); // rows that share a word OR their bits into it
  const pass = encoder.beginComputePass();
  kernels.dispatch(pass, pipeline, kernels.bindGroup(pipeline, [scores.buffer, mask, params]), shape.rows);
  pass.end();
  kernels.device.queue.submit([encoder.finish()]);
  params.destroy(); // freed once the submitted work is done
  return mask;
}
