// A CSR weight on the GPU (csr.ts) as a LinearKernel: shaders/csr-matvec.wgsl for one token,
// shaders/csr-matmul.wgsl for several.
import type { GpuKernels } from './kernels';
import type { LinearKernel } from './linear-kernel';
import { checkCsr, csrBytes, type CsrMatrix } from './csr';
import { checkLinearCall } from './run-linear';

const WG = 256;
const MATVEC_ROWS_PER_WG = 8; // ROWS_PER_WG of lib/lane-sum.wgsl

/**
 * csr-matmul.wgsl's shape for n tokens: more lanes per row first (parallelism; a power of two in
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

export function csrKernel(kernels: GpuKernels, csr: CsrMatrix): LinearKernel {
  checkCsr('csrKernel', csr);
  const { rows, cols, rowPtr, colIdx, values } = csr;
  const weight = [kernels.storage(rowPtr, 'csr rowPtr'), kernels.storage(colIdx, 'csr colIdx'), kernels.storage(values, 'csr values')];
  const matvecParams = kernels.uniform(new Uint32Array([rows]), 'csr matvec params');
  // A plan (pipeline, uniform) per token count, kept until destroy(): encode() may record several
  // counts before one submit, so one uniform rewritten per call would not do, and a forward pass
  // meets few distinct counts.
  const plans = new Map<number, MatmulPlan>();
  const plan = (n: number): MatmulPlan => {
    let p = plans.get(n);
    if (!p) {
      const { lanes, tokensPerThread } = matmulShape(n);
      const tiles = Math.ceil(n / (lanes * tokensPerThread));
      p = {
        pipeline: kernels.pipeline('csrMatmul', { TOKEN_LANES: lanes, TOKENS_PER_THREAD: tokensPerThread }),
        params: kernels.uniform(new Uint32Array([rows, n, tiles]), `csr matmul params n=${n}`),
        workgroups: Math.ceil(rows / (WG / lanes)) * tiles,
      };
      plans.set(n, p);
    }
    return p;
  };
  const kernel: LinearKernel = {
    format: 'csr',
    rows,
    cols,
    bytes: csrBytes(csr),
    supports: (n) => Number.isInteger(n) && n >= 1,
    encode(pass, xT, y, n) {
      checkLinearCall(kernel, xT, y, n);
      if (n === 1) {
        const pipeline = kernels.pipeline('csrMatvec');
        kernels.dispatch(pass, pipeline, kernels.bindGroup(pipeline, [...weight, xT, y, matvecParams]), Math.ceil(rows / MATVEC_ROWS_PER_WG));
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
