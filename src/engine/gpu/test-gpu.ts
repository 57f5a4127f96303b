// What the GPU parity tests share (vitest, Node only): one Dawn device per test file, a check
// that a call caused no WebGPU validation error (they are otherwise silent), and a tolerance
// comparison for sums whose order differs between a kernel and its reference.
import { afterAll, beforeAll, expect } from 'vitest';
import { createNodeGpu, type NodeGpu } from './node-device';
import { GpuKernels } from './kernels';

export interface TestGpu {
  node: NodeGpu;
  kernels: GpuKernels;
  /** Kernels capped at 3 workgroups per dispatch dimension: reaches the 2-D grid path at small sizes. */
  tiny: GpuKernels;
}

/** Creates the device before the file's tests and destroys it after; read the fields inside tests. */
export function useTestGpu(): TestGpu {
  const gpu = {} as TestGpu;
  beforeAll(async () => {
    gpu.node = await createNodeGpu();
    gpu.kernels = new GpuKernels(gpu.node.device);
    gpu.tiny = new GpuKernels(gpu.node.device, { maxWorkgroupsPerDimension: 3 });
  });
  afterAll(() => gpu.node?.device.destroy());
  return gpu;
}

/** Runs `f` and fails on any WebGPU validation error it caused. */
export async function checked<T>(device: GPUDevice, f: () => Promise<T>): Promise<T> {
  device.pushErrorScope('validation');
  const out = await f();
  const error = await device.popErrorScope();
  expect(error?.message ?? null).toBeNull();
  return out;
}

/**
 * Expects got ≈ want entry by entry: NaN where want is NaN, the same infinity where want is
 * infinite, else |got − want| ≤ tol · scale[i] (scale: Σ|w·x| of that output, the size of the
 * rounding a different summation order can cause; 1e-5 covers f32 sums of thousands of terms).
 */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, scale: ArrayLike<number>, tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i], want[i]];
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= tol * scale[i] + 1e-30;
    if (!ok) expect(`entry ${i}: ${g}`).toBe(`entry ${i}: ${w} (± ${tol * scale[i]})`);
  }
}
