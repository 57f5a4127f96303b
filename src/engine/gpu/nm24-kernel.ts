// A 2:4-compressed weight on the GPU (nm24.ts) as a LinearKernel: shaders/nm24-matvec.wgsl for one
// token, shaders/nm24-matmul.wgsl for several.
import type { GpuKernels } from './kernels';
import type { LinearKernel } from './linear-kernel';
import { checkNm24, nm24Bytes, nm24Groups, type Nm24Matrix } from './nm24';
import { tokenTiledKernel } from './token-tiled-kernel';

const WG = 256;

/**
 * nm24-matvec.wgsl's lanes per row: about 4 groups each (a power of two in [1, 256]), so that the
 * few wide rows of a down-projection still fill a large GPU with loads in flight.
 */
function matvecLanes(groups: number): number {
  return Math.min(WG, 2 ** Math.ceil(Math.log2(Math.ceil(groups / 4))));
}

export function nm24Kernel(kernels: GpuKernels, m: Nm24Matrix): LinearKernel {
  checkNm24('nm24Kernel', m);
  const { rows, cols } = m;
  const groups = nm24Groups(cols);
  const lanes = matvecLanes(groups);
  return tokenTiledKernel(kernels, {
    format: 'nm24',
    rows,
    cols,
    bytes: nm24Bytes(rows, cols),
    weight: [kernels.storage(m.values, '2:4 values'), kernels.storage(m.indices, '2:4 indices')],
    matvec: {
      pipeline: kernels.pipeline('nm24Matvec', { LANES: lanes }),
      params: kernels.uniform(new Uint32Array([rows, groups]), '2:4 matvec params'),
      workgroups: Math.ceil(rows / (WG / lanes)),
    },
    matmul: { kernel: 'nm24Matmul', params: (n, tiles) => [rows, n, groups, tiles] },
  });
}
