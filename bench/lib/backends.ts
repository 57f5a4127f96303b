// TensorFlow.js backends a Node benchmark can run on: 'cpu' (plain JS), 'wasm' (XNNPACK, with our
// transposed-matmul fix) and 'webgpu' through Dawn for Node (the `webgpu` package). WebGPU needs a
// Vulkan driver: the real GPU's on the device machine, Chromium's SwiftShader (CPU) elsewhere
// (src/engine/gpu/node-tfjs-webgpu.ts picks it). SwiftShader figures are for correctness and
// relative cost only, never GPU speed claims.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installWasmKernels } from '../../src/engine/backends/wasm-kernels';
import { registerNodeTfjsWebGpu } from '../../src/engine/gpu/node-tfjs-webgpu';

export type BackendName = 'cpu' | 'wasm' | 'webgpu';

/** Makes `backend` current; returns a description of the device, or null when unavailable. */
export async function useBackend(backend: BackendName): Promise<string | null> {
  if (backend === 'webgpu' && !(await registerNodeTfjsWebGpu())) return null;
  if (!(await tf.setBackend(backend))) return null;
  await tf.ready();
  if (backend === 'wasm') installWasmKernels();
  if (backend !== 'webgpu') return `${backend} (${process.arch}, 1 thread)`;
  const info = (
    tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string; description?: string } }
  ).adapterInfo;
  return `webgpu (${[info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'adapter'})`;
}
