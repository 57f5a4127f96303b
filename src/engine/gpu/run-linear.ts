// Running a LinearKernel (linear-kernel.ts) outside a forward pass: the checks every format's
// encode() shares, and a one-shot product from CPU arrays for tests and benchmarks.
import type { GpuKernels } from './kernels';
import type { LinearKernel } from './linear-kernel';

/** Throws unless `kernel` handles n tokens and xT, y hold [cols, n] and [n, rows] f32 values. */
export function checkLinearCall(kernel: LinearKernel, xT: GPUBuffer, y: GPUBuffer, n: number): void {
  const name = `${kernel.format} ${kernel.rows}×${kernel.cols}`;
  if (!Number.isInteger(n) || n < 1 || !kernel.supports(n)) throw new Error(`${name}: no product for n = ${n}`);
  if (kernel.cols * n >= 2 ** 32 || kernel.rows * n >= 2 ** 32) throw new Error(`${name}: n = ${n} exceeds 32-bit indices`);
  if (xT.size < kernel.cols * n * 4) throw new Error(`${name}: xT has ${xT.size} bytes, needs ${kernel.cols * n * 4} (${kernel.cols}×${n} f32)`);
  if (y.size < kernel.rows * n * 4) throw new Error(`${name}: y has ${y.size} bytes, needs ${kernel.rows * n * 4} (${n}×${kernel.rows} f32)`);
}

/** Uploads xT [cols, n], records the product in its own pass, submits, and reads y [n, rows] back. */
export async function runLinear(kernels: GpuKernels, kernel: LinearKernel, xT: Float32Array, n: number): Promise<Float32Array> {
  if (xT.length !== kernel.cols * n) throw new Error(`runLinear: xT has ${xT.length} values, want ${kernel.cols}×${n}`);
  const x = kernels.storage(xT, 'linear xT');
  const y = kernels.storage(kernel.rows * n * 4, 'linear y');
  try {
    const encoder = kernels.device.createCommandEncoder({ label: `${kernel.format} linear` });
    const pass = encoder.beginComputePass();
    kernel.encode(pass, x, y, n);
    pass.end();
    kernels.device.queue.submit([encoder.finish()]);
    return new Float32Array((await kernels.readWords(y, kernel.rows * n)).buffer);
  } finally {
    x.destroy();
    y.destroy();
  }
}
