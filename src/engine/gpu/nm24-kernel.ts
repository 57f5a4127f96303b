// A 2:4-compressed weight on the GPU (nm24.ts) as a LinearKernel: shaders/nm24-matvec.wgsl for one
// token, shaders/nm24-matmul.wgsl for several.
import type { GpuKernels } from './kernels';
import type { LinearKernel } from './linear-kernel';
import { checkNm24, nm24Bytes, nm24Groups, type Nm24Matrix } from './nm24';
import { checkLinearCall } from './run-linear';

const WG = 256;

/**
 * nm24-matvec.wgsl's lanes per row: about 4 groups each (a power of two in [1, 256]), so that the
 * few wide rows of a down-projection still fill a large GPU with loads in flight.
 */
function matvecLanes(groups: number): number {
  return Math.min(WG, 2 ** Math.ceil(Math.log2(Math.ceil(groups / 4))));
}

/**
 * nm24-matmul.wgsl's shape for n tokens: more lanes per row first (parallelism; a power of two in
 * [8, 64]), then up to 4 tokens per lane (each staged weight then serves 4 gathers).
 */
function matmulShape(n: number): { lanes: number; tokensPerThread: number } {
  const lanes = Math.min(64, Math.max(8, 2 ** Math.ceil(Math.log2(n))));
  return { lanes, tokensPerThread: Math.min(4, Math.ceil(n / lanes)) };
}

interface MatmulPlan {
  pipeline: GPUComputePipeline;
  params: GPUBuffer;
  workgroups: number;
}

export function nm24Kernel(kernels: GpuKernels, m: Nm24Matrix): LinearKernel {
  checkNm24('nm24Kernel', m);
  const { rows, cols } = m;
  const groups = nm24Groups(cols);
  const weight = [kernels.storage(m.values, '2:4 values'), kernels.storage(m.indices, '2:4 indices')];
  const rowLanes = matvecLanes(groups);
  const matvec = kernels.pipeline('nm24Matvec', { LANES: rowLanes });
  const matvecParams = kernels.uniform(new Uint32Array([rows, groups]), '2:4 matvec params');
  // One uniform per token count, made once: encode() may record several counts before a submit,
  // and a forward pass meets few distinct ones.
  const plans = new Map<number, MatmulPlan>();
  const plan = (n: number): MatmulPlan => {
    let p = plans.get(n);
    if (!p) {
      const { lanes, tokensPerThread } = matmulShape(n);
      const tiles = Math.ceil(n / (lanes * tokensPerThread));
      p = {
        pipeline: kernels.pipeline('nm24Matmul', { TOKEN_LANES: lanes, TOKENS_PER_THREAD: tokensPerThread }),
        params: kernels.uniform(new Uint32Array([rows, n, groups, tiles]), `2:4 matmul params n=${n}`),
        workgroups: Math.ceil(rows / (WG / lanes)) * tiles,
      };
      plans.set(n, p);
    }
    return p;
  };
  const kernel: LinearKernel = {
    format: 'nm24',
    rows,
    cols,
    bytes: nm24Bytes(rows, cols),
    supports: (n) => Number.isInteger(n) && n >= 1,
    encode(pass, xT, y, n) {
      checkLinearCall(kernel, xT, y, n);
      if (n === 1) {
        kernels.dispatch(pass, matvec, kernels.bindGroup(matvec, [...weight, xT, y, matvecParams]), Math.ceil(rows / (WG / rowLanes)));
        return;
      }
      const { pipeline, params, workgroups } = plan(n);
      kernels.dispatch(pass, pipeline, kernels.bindGroup(pipeline, [...weight, xT, y, params]), workgroups);
    },
    destroy() {
      for (const b of [...weight, matvecParams, ...[...plans.values()].map((p) => p.params)]) b.destroy();
      plans.clear();
    },
  };
  return kernel;
}
