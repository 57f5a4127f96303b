// TensorFlow.js in Node (training, CLI, scripts): the WASM backend (XNNPACK, ~10× the pure-JS CPU
// backend here) with the engine's faster kernels, reading results in a way that lets signals through.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installWasmKernels } from './wasm-kernels';
import { yieldOnRead } from './wasm-reads';

export async function useWasm(): Promise<void> {
  if (!(await tf.setBackend('wasm'))) throw new Error('could not start the TensorFlow.js WASM backend');
  await tf.ready();
  installWasmKernels();
  yieldOnRead(() => new Promise<void>((resolve) => setImmediate(resolve)));
}
