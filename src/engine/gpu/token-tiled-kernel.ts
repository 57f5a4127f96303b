// What the sparse formats' LinearKernels share: weight buffers, one matrix-vector dispatch for one
// token, and for n tokens a token-tiled product (csr-matmul.wgsl, nm24-matmul.wgsl: a workgroup
// takes 256 / lanes rows × a tile of lanes · tokensPerThread tokens).
import type { GpuKernels } from './kernels';
import type { KernelName } from './shaders';
import type { LinearFormat, LinearKernel } from './linear-kernel';
import { checkLinearCall } from './run-linear';

const WG = 256;

/**
 * The tiled kernels' shape for n tokens: more lanes per row first (parallelism; a power of two in
 * [8, 64]), then up to 4 tokens per lane (each staged weight then serves 4 gathers).
 */
function matmulShape(n: number): { lanes: number; tokensPerThread: number } {
  const lanes = Math.min(64, Math.max(8, 2 ** Math.ceil(Math.log2(n))));
  return { lanes, tokensPerThread: Math.min(4, Math.ceil(n / lanes)) };
}

export interface TokenTiledSpec {
  format: LinearFormat;
  rows: number;
  cols: number;
  bytes: number;
  /** The weight's buffers, bound first (then xT, y, params); destroyed with the kernel. */
  weight: GPUBuffer[];
  /** The one-token product: pipeline, its uniform (destroyed with the kernel) and workgroup count. */
  matvec: { pipeline: GPUComputePipeline; params: GPUBuffer; workgroups: number };
  /** The n-token kernel and its uniform's words, given n and the number of token tiles. */
  matmul: { kernel: KernelName; params: (n: number, tiles: number) => number[] };
}

export function tokenTiledKernel(kernels: GpuKernels, spec: TokenTiledSpec): LinearKernel {
  const { rows, weight, matvec } = spec;
  // A plan (pipeline, uniform) per token count, kept until destroy(): encode() may record several
  // counts before one submit, so one uniform rewritten per call would not do, and a forward pass
  // meets few distinct counts.
  const plans = new Map<number, { pipeline: GPUComputePipeline; params: GPUBuffer; workgroups: number }>();
  const plan = (n: number) => {
    let p = plans.get(n);
    if (!p) {
      const { lanes, tokensPerThread } = matmulShape(n);
      const tiles = Math.ceil(n / (lanes * tokensPerThread));
      p = {
        pipeline: kernels.pipeline(spec.matmul.kernel, { TOKEN_LANES: lanes, TOKENS_PER_THREAD: tokensPerThread }),
        params: kernels.uniform(new Uint32Array(spec.matmul.params(n, tiles)), `${spec.format} matmul params n=${n}`),
        workgroups: Math.ceil(rows / (WG / lanes)) * tiles,
      };
      plans.set(n, p);
    }
    return p;
  };
  const kernel: LinearKernel = {
    format: spec.format,
    rows,
    cols: spec.cols,
    bytes: spec.bytes,
    supports: (n) => Number.isInteger(n) && n >= 1,
    encode(pass, xT, y, n) {
      checkLinearCall(kernel, xT, y, n);
      const { pipeline, params, workgroups } = n === 1 ? matvec : plan(n);
      kernels.dispatch(pass, pipeline, kernels.bindGroup(pipeline, [...weight, xT, y, params]), workgroups);
    },
    destroy() {
      for (const b of [...weight, matvec.params, ...[...plans.values()].map((p) => p.params)]) b.destroy();
      plans.clear();
    },
  };
  return kernel;
}
