// TensorFlow.js in Node (training, CLI, scripts): the WASM backend (XNNPACK, ~10× the pure-JS CPU
// backend here) with the transposed-matmul fix, reading results in a way that lets signals through.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installWasmKernels } from './wasm-kernels';

let yielding = false;

export async function useWasm(): Promise<void> {
  if (!(await tf.setBackend('wasm'))) throw new Error('could not start the TensorFlow.js WASM backend');
  await tf.ready();
  installWasmKernels();
  yieldOnRead();
}

/**
 * The WASM backend's async read() resolves in a microtask, so an engine job (which awaits
 * tensor.data() once per batch) never lets the event loop run: a Ctrl-C handler would wait for
 * the whole job. Reading after a setImmediate turn lets signals through once per batch, at the
 * cost of microseconds.
 */
function yieldOnRead(): void {
  if (yielding) return;
  const backend = tf.backend() as unknown as { read(id: object): Promise<unknown>; readSync(id: object): unknown };
  const readSync = backend.readSync.bind(backend);
  backend.read = async (id) => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    return readSync(id);
  };
  yielding = true;
}
