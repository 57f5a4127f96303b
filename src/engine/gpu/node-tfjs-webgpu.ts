// TensorFlow.js's 'webgpu' backend in Node, on Dawn (the `webgpu` package), for tests and
// benchmarks. The backend asks navigator.gpu for its adapter, which Node lacks: Dawn's GPU stands in.
// Node only; the page and the worker register the backend by importing it (workers/backend.ts).
import { useSwiftShaderUnlessDriverNamed } from './node-device';

let registered: Promise<boolean> | null = null;

/**
 * Registers the 'webgpu' backend once (it does not make it current: tf.setBackend('webgpu') does).
 * False when Dawn found no adapter (nothing is registered then).
 */
export function registerNodeTfjsWebGpu(): Promise<boolean> {
  registered ??= (async () => {
    useSwiftShaderUnlessDriverNamed();
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const gpu = create(['backend=vulkan']);
    if (!(await gpu.requestAdapter())) return false;
    // navigator keeps Dawn's instance reachable for as long as the backend's device lives (see node-device.ts).
    Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node' }, configurable: true });
    await import('@tensorflow/tfjs-backend-webgpu');
    return true;
  })();
  return registered;
}
