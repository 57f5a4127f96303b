// A CSR weight on the GPU (csr.ts) as a LinearKernel: shaders/csr-matvec.wgsl for one token,
// shaders/csr-matmul.wgsl for several.
import type { GpuKernels } from './kernels';
import type { LinearKernel } from './linear-kernel';
import { checkCsr, csrBytes, type CsrMatrix } from './csr';
import { tokenTiledKernel } from './token-tiled-kernel';

const MATVEC_ROWS_PER_WG = 8; // ROWS_PER_WG of lib/lane-sum.wgsl

export function csrKernel(kernels: GpuKernels, csr: CsrMatrix): LinearKernel {
  checkCsr('csrKernel', csr);
  const { rows, cols, rowPtr, colIdx, values } = csr;
  return tokenTiledKernel(kernels, {
    format: 'csr',
    rows,
    cols,
    bytes: csrBytes(csr),
    weight: [
      kernels.storage(rowPtr, 'csr rowPtr'),
      kernels.storage(colIdx, 'csr colIdx'),
      kernels.storage(values, 'csr values'),
    ],
    matvec: {
      pipeline: kernels.pipeline('csrMatvec'),
      params: kernels.uniform(new Uint32Array([rows]), 'csr matvec params'),
      workgroups: Math.ceil(rows / MATVEC_ROWS_PER_WG),
    },
    matmul: { kernel: 'csrMatmul', params: (n, tiles) => [rows, n, tiles] },
  });
}
