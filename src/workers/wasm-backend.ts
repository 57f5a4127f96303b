// TensorFlow.js's WASM backend (XNNPACK) for the worker: where the browser has no WebGPU, or only a
// software one, it measures a model tens of times faster than the plain-JS CPU backend (README,
// "Speed"). Its binaries are bundled by Vite (`?url`) so the page loads them from its own origin.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import plainWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedSimdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { installFastWasmMatMul } from '../engine/backends/wasm-matmul';

/** Starts the WASM backend; returns why it could not, or null. */
export async function startWasm(): Promise<string | null> {
  try {
    // One thread: the threaded build starts pthread workers of its own, which a module worker
    // bundled by Vite does not provide; the engine already runs off the UI thread. (tfjs still wants
    // a path for every binary.)
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setWasmPaths({
      'tfjs-backend-wasm.wasm': plainWasm,
      'tfjs-backend-wasm-simd.wasm': simdWasm,
      'tfjs-backend-wasm-threaded-simd.wasm': threadedSimdWasm,
    });
    if (!(await tf.setBackend('wasm'))) return 'the WASM backend of TensorFlow.js failed to start';
    await tf.ready();
    installFastWasmMatMul();
    return null;
  } catch (e) {
    return `WASM failed: ${(e as Error).message}`;
  }
}
