// bench:gpu's matrix products: our sparse (CSR, 2:4) and dense matrix-vector kernels against
// tf.matMul on the masked dense matrix, on the same device, and against the plain-TS reference
// twins; every product is checked against the reference. Shapes: the default models' layers,
// GPT-2-small's and 4096², at batch 1 (decode) and 128 (prefill), 50/70/90/95% unstructured and 2:4.
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { tfjsGpuIdle } from '../../src/engine/gpu/tfjs-device';
import { timeGpu } from '../../src/engine/gpu/timing';
import type { GpuKernels } from '../../src/engine/gpu/kernels';
import type { LinearKernel } from '../../src/engine/gpu/linear-kernel';
import { csrKernel } from '../../src/engine/gpu/csr-kernel';
import { csrMatmulReference, denseMatmulReference, toCsr } from '../../src/engine/gpu/csr';
import { nm24Kernel } from '../../src/engine/gpu/nm24-kernel';
import { nm24MatmulReference, toNm24 } from '../../src/engine/gpu/nm24';
import { denseMatvecKernel } from '../../src/engine/gpu/dense-kernel';
import { topKMask } from '../../src/engine/pruning/select';
import { nmMask } from '../../src/engine/pruning/nm';
import { randomArray } from '../../src/engine/model/tiny-models';
import type { BenchRow } from './gpu-rows';

/** [out, in]: vit-fashion (64, FFN 256), gpt-bytes (128, FFN 512, fused QKV), GPT-2 small, 4096². */
const SHAPES: [string, number, number][] = [
  ['vit-fashion attn', 64, 64],
  ['vit-fashion fc1', 256, 64],
  ['gpt-bytes c_attn', 384, 128],
  ['gpt-bytes c_fc', 512, 128],
  ['GPT-2 attn', 768, 768],
  ['GPT-2 c_fc', 3072, 768],
  ['GPT-2 c_proj', 768, 3072],
  ['4096²', 4096, 4096],
];
const SPARSITIES: (number | '2:4')[] = [0.5, 0.7, 0.9, 0.95, '2:4'];
const BATCHES = [1, 128];

export interface MatmulBenchOptions {
  kernels: GpuKernels;
  backend: WebGPUBackend;
  /** Output rows are divided by it (a quick correctness run). */
  scale: number;
  timeCpu<T>(op: () => T): { ms: number; result: T };
  /** HBM bandwidth of the device in GB/s, when known, for the dense matrix-vector's share of it. */
  peakGBs: number | null;
}

/** Largest |got − want| relative to the output's Σ|w·x| scale (1e-4 passes for f32 sums). */
function worstError(got: Float32Array, want: Float32Array, scale: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (scale[i] + 1e-30));
  return worst;
}

export async function matmulRows(o: MatmulBenchOptions): Promise<BenchRow[]> {
  const { kernels, backend } = o;
  const device = kernels.device;
  const idle = () => tfjsGpuIdle(backend);
  const rows: BenchRow[] = [];

  /** Times our kernel's product into fixed buffers, and reads its result for the parity check. */
  async function ours(kernel: LinearKernel, xT: Float32Array, n: number): Promise<{ ms: number; y: Float32Array }> {
    const x = kernels.storage(xT, 'bench xT');
    const y = kernels.storage(kernel.rows * n * 4, 'bench y');
    const op = () => {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      kernel.encode(pass, x, y, n);
      pass.end();
      device.queue.submit([encoder.finish()]);
    };
    const ms = await timeGpu(op, idle, { perBatch: 20, batches: 5 });
    const out = new Float32Array((await kernels.readWords(y, kernel.rows * n)).buffer);
    x.destroy();
    y.destroy();
    return { ms, y: out };
  }

  /** tf.matMul(x [n, in], W [out, in]ᵀ) on the masked dense matrix: what the forward pass runs without our kernels. */
  async function tfjs(w: Float32Array, out: number, inF: number, xT: Float32Array, n: number): Promise<number> {
    const wt = tf.tensor2d(w, [out, inF]);
    const x = tf.transpose(tf.tensor2d(xT, [inF, n]));
    const ms = await timeGpu(() => tf.dispose(tf.matMul(x, wt, false, true)), idle, { perBatch: 20, batches: 5 });
    tf.dispose([wt, x]);
    return ms;
  }

  for (const [name, out0, inF] of SHAPES) {
    const out = Math.max(1, Math.round(out0 / o.scale));
    const w = randomArray(out * inF, out0 * 7 + inF, 0.05);
    const magnitude = w.map(Math.abs);
    for (const n of BATCHES) {
      const xT = randomArray(inF * n, n + inF);
      const shape = `${out}×${inF}, n = ${n}`;
      if (n === 1) {
        // Our dense matrix-vector product: the bandwidth figure (bytes of W read once per product).
        const kernel = denseMatvecKernel(kernels, w, out, inF);
        const got = await ours(kernel, xT, 1);
        kernel.destroy();
        const ref = o.timeCpu(() => denseMatmulReference(w, out, inF, xT, 1));
        const scale = denseMatmulReference(magnitude, out, inF, xT.map(Math.abs), 1);
        const gbs = (out * inF * 4) / (got.ms * 1e6);
        rows.push({
          op: `${name}: dense matvec`,
          shape,
          oursMs: got.ms,
          tfjsMs: await tfjs(w, out, inF, xT, 1),
          referenceMs: ref.ms,
          parity: worstError(got.y, ref.result, scale) < 1e-4,
          note: `${gbs.toPrecision(3)} GB/s${o.peakGBs ? ` (${((100 * gbs) / o.peakGBs).toFixed(0)}% of ${o.peakGBs})` : ''}`,
        });
      }
      for (const sparsity of SPARSITIES) {
        const mask =
          sparsity === '2:4'
            ? nmMask(magnitude, out, inF, 2, 4)
            : topKMask(magnitude, Math.round(out * inF * (1 - sparsity)));
        const masked = w.map((v, i) => v * mask[i]);
        const format = sparsity === '2:4' ? 'nm24' : 'csr';
        const [kernel, reference] =
          format === 'nm24'
            ? ((m) => [nm24Kernel(kernels, m), () => nm24MatmulReference(m, xT, n)] as const)(
                toNm24(masked, mask, out, inF),
              )
            : ((m) => [csrKernel(kernels, m), () => csrMatmulReference(m, xT, n)] as const)(
                toCsr(masked, mask, out, inF),
              );
        const got = await ours(kernel, xT, n);
        const bytes = kernel.bytes;
        kernel.destroy();
        const ref = o.timeCpu(reference);
        const scale = denseMatmulReference(masked.map(Math.abs), out, inF, xT.map(Math.abs), n);
        rows.push({
          op: `${name}: ${sparsity === '2:4' ? '2:4' : `${sparsity * 100}% CSR`}`,
          shape,
          oursMs: got.ms,
          tfjsMs: await tfjs(masked, out, inF, xT, n),
          referenceMs: ref.ms,
          parity: worstError(got.y, ref.result, scale) < 1e-4,
          note: `${(bytes / 1e6).toFixed(2)} MB vs ${((out * inF * 4) / 1e6).toFixed(2)} MB dense`,
        });
      }
    }
  }
  return rows;
}
