// Per-query token top-k on the GPU (token pruning: many rows, small keep), shaders/token-topk.wgsl.
// Each row keeps `keep` columns — the protected one first in rank, then the best scores, ties by
// position, NaN last — written in ascending column order, as model/tokens.ts's selectTokens.
import type { GpuKernels, GpuTensor } from './kernels';
import { checkMatrix, type MatrixShape } from './row-topk';

const NO_PROTECT = 0xffffffff;

/**
 * Submits the selection; returns a [rows, keep] u32 buffer of kept column indices, ascending in
 * each row (yours to destroy). `protect` is the column every row keeps (CLS or the last token), or
 * null for none.
 */
export function tokenTopK(
  kernels: GpuKernels,
  scores: GpuTensor,
  shape: MatrixShape,
  keep: number,
  protect: number | null,
): GPUBuffer {
  checkMatrix('token top-k', scores, shape);
  const min = protect === null ? 0 : 1;
  if (!Number.isInteger(keep) || keep < min || keep > shape.cols)
    throw new Error(`token top-k: keep must be an integer in [${min}, ${shape.cols}], got ${keep}`);
  if (protect !== null && !(Number.isInteger(protect) && protect >= 0 && protect < shape.cols))
    throw new Error(`token top-k: protected column ${protect} outside [0, ${shape.cols})`);
  const kept = kernels.storage(shape.rows * keep * 4, 'kept tokens');
  const params = kernels.uniform(
    new Uint32Array([shape.rows, shape.cols, keep, protect ?? NO_PROTECT]),
    'token top-k params',
  );
  const pipeline = kernels.pipeline('tokenTopK');
  const encoder = kernels.device.createCommandEncoder({ label: 'token top-k' });
  const pass = encoder.beginComputePass();
  kernels.dispatch(pass, pipeline, kernels.bindGroup(pipeline, [scores.buffer, kept, params]), shape.rows);
  pass.end();
  kernels.device.queue.submit([encoder.finish()]);
  params.destroy();
  return kept;
}
