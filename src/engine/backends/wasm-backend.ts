// The parts of TensorFlow.js's WASM backend the engine's replacement kernels reach into (stable
// across 4.x), and how a replacement takes the stock kernel's place.
import * as tf from '@tensorflow/tfjs';

/** Allocating outputs and viewing any tensor's memory in the heap. */
export interface WasmBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
}

/** Also the backend's tensor registry and its compiled module's exports. */
export interface WasmBackendInternals extends WasmBackend {
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  wasm: {
    cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
  };
}

/** Registers `kernel` for the WASM backend in place of the stock kernel of its name. */
export function replaceWasmKernel(kernel: Omit<tf.KernelConfig, 'backendName'>): void {
  tf.unregisterKernel(kernel.kernelName, 'wasm');
  tf.registerKernel({ ...kernel, backendName: 'wasm' });
}

/** Where a tensor's data starts in the backend's memory, in bytes: what the SIMD kernels take. */
export function offsetOf(backend: WasmBackendInternals, t: tf.TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}
