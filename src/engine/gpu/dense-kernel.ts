// A dense weight on the GPU as a LinearKernel for one token (n = 1 only): shaders/dense-matvec.wgsl,
// our own matrix-vector product, the baseline the sparse formats are measured against.
import type { GpuKernels } from './kernels';
import type { LinearKernel } from './linear-kernel';
import { checkShape } from './csr';
import { checkLinearCall } from './run-linear';

const ROWS_PER_WG = 8; // ROWS_PER_WG of lib/lane-sum.wgsl

/** `w` [rows, cols] row-major, uploaded with rows padded by zeros to a multiple of 4 columns (vec4 loads). */
export function denseMatvecKernel(kernels: GpuKernels, w: Float32Array, rows: number, cols: number): LinearKernel {
  checkShape('denseMatvecKernel', rows, cols);
  if (w.length !== rows * cols) throw new Error(`denseMatvecKernel: ${w.length} weights for ${rows}×${cols}`);
  const rowVec4s = Math.ceil(cols / 4);
  let padded = w;
  if (cols % 4 !== 0) {
    padded = new Float32Array(rows * rowVec4s * 4);
    for (let r = 0; r < rows; r++) padded.set(w.subarray(r * cols, (r + 1) * cols), r * rowVec4s * 4);
  }
  const weight = kernels.storage(padded, 'dense weight');
  const params = kernels.uniform(new Uint32Array([rows, cols, rowVec4s]), 'dense matvec params');
  const kernel: LinearKernel = {
    format: 'dense',
    rows,
    cols,
    bytes: padded.byteLength,
    supports: (n) => n === 1,
    encode(pass, xT, y, n) {
      checkLinearCall(kernel, xT, y, n);
      const pipeline = kernels.pipeline('denseMatvec');
      kernels.dispatch(
        pass,
        pipeline,
        kernels.bindGroup(pipeline, [weight, xT, y, params]),
        Math.ceil(rows / ROWS_PER_WG),
      );
    },
    destroy() {
      weight.destroy();
      params.destroy();
    },
  };
  return kernel;
}
