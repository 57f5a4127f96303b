// TensorFlow.js backends a Node benchmark can run on: 'cpu' (plain JS), 'wasm' (XNNPACK, with our
// transposed-matmul fix) and 'webgpu' through Dawn for Node (the `webgpu` package). WebGPU needs a
// Vulkan driver: the real GPU's on the device machine, SwiftShader (CPU) elsewhere — run with
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium
// SwiftShader figures are for correctness and relative cost only, never GPU speed claims.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installFastWasmMatMul } from '../../src/engine/backends/wasm-matmul';

export type BackendName = 'cpu' | 'wasm' | 'webgpu';

let webgpuRegistered = false;

/** Makes `backend` current; returns a description of the device, or null when unavailable. */
export async function useBackend(backend: BackendName): Promise<string | null> {
  if (backend === 'webgpu' && !webgpuRegistered) {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const gpu = create(['backend=vulkan']);
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node' }, configurable: true });
    await import('@tensorflow/tfjs-backend-webgpu');
    webgpuRegistered = true;
  }
  if (!(await tf.setBackend(backend))) return null;
  await tf.ready();
  if (backend === 'wasm') installFastWasmMatMul();
  if (backend !== 'webgpu') return `${backend} (${process.arch}, 1 thread)`;
  const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string; description?: string } }).adapterInfo;
  return `webgpu (${[info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'adapter'})`;
}
