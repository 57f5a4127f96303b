// N:M masks on the GPU (2:4, 4:8, ...), shaders/nm-mask.wgsl. Same selection as pruning/nm.ts's
// nmMask, its reference twin: every M consecutive entries of a row keep their N best, ties by
// position, NaN last; a shorter last group keeps round(N·L/M).
import type { GpuKernels, GpuTensor } from './kernels';
import { maskWords } from './bitmask';
import { checkMatrix, type MatrixShape } from './row-topk';

const WG = 256;

/** Submits the selection; returns the bitmask buffer (bitmask.ts layout; yours to destroy). */
export function nmMask(
  kernels: GpuKernels,
  scores: GpuTensor,
  shape: MatrixShape,
  n: number,
  m: number,
  options: { magnitude?: boolean } = {},
): GPUBuffer {
  checkMatrix('N:M', scores, shape);
  if (!(Number.isInteger(n) && Number.isInteger(m) && n >= 0 && n < m))
    throw new Error(`N:M needs integers 0 ≤ N < M, got ${n}:${m}`);
  const words = maskWords(scores.length);
  const mask = kernels.storage(words * 4, 'N:M mask');
  const params = kernels.uniform(new Uint32Array([shape.rows, shape.cols, n, m]), 'N:M params');
  const pipeline = kernels.pipeline('nmMask', { MAGNITUDE: options.magnitude ? 1 : 0 });
  const encoder = kernels.device.createCommandEncoder({ label: 'N:M mask' });
  const pass = encoder.beginComputePass();
  kernels.dispatch(pass, pipeline, kernels.bindGroup(pipeline, [scores.buffer, mask, params]), Math.ceil(words / WG));
  pass.end();
  kernels.device.queue.submit([encoder.finish()]);
  params.destroy();
  return mask;
}
