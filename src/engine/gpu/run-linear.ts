// Running a LinearKernel (linear-kernel.ts) outside a forward pass: the checks every format's
// encode() shares, and a one-shot product from CPU arrays for tests and benchmarks.
import type { GpuKernels } from './kernels';
import type { LinearKernel } from './linear-kernel';

/** Throws unless `kernel` handles n tokens and xT, y hold [cols, n] and [n, rows] f32 values. */
export function checkLinearCall(kernel: LinearKernel, xT: GPUBuffer, y: GPUBuffer, n: number): void {
  const name = `${kernel.format} ${kernel.rows}×${kernel.cols}`;
  if (!Number.isInteger(n) || n < 1 || !kernel.supports(n)) throw new Error(`${name}: no product for n = ${n}`);
  if (kernel.cols * n >= 2 ** 32 || kernel.rows * n >= 2 ** 32)
    throw new Error(`${name}: n = ${n} exceeds 32-bit indices`);
  if (xT.size < kernel.cols * n * 4)
    throw new Error(`${name}: xT has ${xT.size} bytes, needs ${kernel.cols * n * 4} (${kernel.cols}×${n} f32)`);
  if (y.size < kernel.rows * n * 4)
    throw new Error(`${name}: y has ${y.size} bytes, needs ${kernel.rows * n * 4} (${n}×${kernel.rows} f32)`);
}

/** Uploads xT [cols, n], records the product in its own pass, submits, and reads y [n, rows] back. */
export async function runLinear(
  kernels: GpuKernels,
  kernel: LinearKernel,
  xT: Float32Array,
  n: number,
): Promise<Float32Array> {
  return (await runLinears(kernels, kernel, [{ xT, n }]))[0];
}

/** Several products (token counts may differ) recorded in one pass before one submit, as a forward pass may. */
export async function runLinears(
  kernels: GpuKernels,
  kernel: LinearKernel,
  inputs: { xT: Float32Array; n: number }[],
): Promise<Float32Array[]> {
  for (const { xT, n } of inputs)
    if (xT.length !== kernel.cols * n)
      throw new Error(`runLinear: xT has ${xT.length} values, want ${kernel.cols}×${n}`);
  const buffers = inputs.map(({ xT, n }) => ({
    x: kernels.storage(xT, 'linear xT'),
    y: kernels.storage(kernel.rows * n * 4, 'linear y'),
  }));
  try {
    const encoder = kernels.device.createCommandEncoder({ label: `${kernel.format} linear` });
    const pass = encoder.beginComputePass();
    inputs.forEach(({ n }, i) => {
      kernel.encode(pass, buffers[i].x, buffers[i].y, n);
    });
    pass.end();
    kernels.device.queue.submit([encoder.finish()]);
    return await Promise.all(
      buffers.map(async ({ y }, i) => new Float32Array((await kernels.readWords(y, kernel.rows * inputs[i].n)).buffer)),
    );
  } finally {
    for (const { x, y } of buffers)
      [x, y].forEach((b) => {
        b.destroy();
      });
  }
}
