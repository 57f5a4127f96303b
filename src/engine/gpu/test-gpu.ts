// What the GPU parity tests share (vitest, Node only): one Dawn device per test file, a check
// that a call caused no WebGPU error (they are otherwise silent), and a tolerance comparison for
// sums whose order differs between a kernel and its reference.
import { afterAll, beforeAll, expect } from 'vitest';
import { createNodeGpu, type NodeGpu } from './node-device';
import { GpuKernels } from './kernels';
import { throwingGpuErrors } from './error-scopes';
import { productDiff } from './parity-suite';

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

/** Runs `f` and fails on any WebGPU validation or out-of-memory error it caused. */
export function checked<T>(device: GPUDevice, f: () => Promise<T>): Promise<T> {
  return throwingGpuErrors(device, f);
}

/**
 * Expects got ≈ want entry by entry: NaN where want is NaN, the same infinity where want is
 * infinite, else |got − want| ≤ tol · scale[i] (parity-suite.ts's productDiff).
 */
export function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  scale: ArrayLike<number>,
  tol = 1e-5,
): void {
  expect(productDiff(got, want, scale, tol)).toBeNull();
}
