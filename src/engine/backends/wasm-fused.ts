// The WASM backend's kernels for the fused ops of fused.ts: layer norm in one pass over each row
// (TensorFlow.js's moments, subtract, rsqrt, multiply and add are nine passes over the activation,
// each a tensor of its own), and exact GELU in one (five op by op). Both SIMD (assembly/simd.ts).
import * as tf from '@tensorflow/tfjs';
import { GELU_ERF, LAYER_NORM } from './fused';
import type { WasmBackendInternals } from './wasm-backend';
import { simdKernelsOf } from './wasm-simd';

let installed = false;

/** Registers the kernels, where the engine's SIMD module reaches the backend's memory. */
export function installFusedWasmKernels(): void {
  const wasm = tf.findBackend('wasm') as WasmBackendInternals | null;
  const simd = wasm && simdKernelsOf(wasm);
  if (installed || !simd) return;
  installed = true;
  const at = (backend: WasmBackendInternals, t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
  tf.registerKernel({
    kernelName: GELU_ERF,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: b }) => {
      const backend = b as WasmBackendInternals;
      const { x } = inputs as { x: tf.TensorInfo };
      const out = backend.makeOutput(x.shape, 'float32');
      const n = tf.util.sizeFromShape(x.shape);
      if (n > 0) simd.geluErf(at(backend, x), at(backend, out), n);
      return out;
    },
  });
  tf.registerKernel({
    kernelName: LAYER_NORM,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: b, attrs }) => {
      const backend = b as WasmBackendInternals;
      const { x, gamma, beta } = inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
      const d = x.shape[x.shape.length - 1]!;
      if (gamma.shape.join() !== `${d}` || beta.shape.join() !== `${d}`)
        throw new Error(`layer norm: weight [${gamma.shape}] and bias [${beta.shape}] over ${d} features`);
      const out = backend.makeOutput(x.shape, 'float32');
      const rows = d === 0 ? 0 : tf.util.sizeFromShape(x.shape) / d;
      const { eps } = attrs as unknown as { eps: number };
      if (rows > 0)
        simd.layerNorm(at(backend, x), at(backend, gamma), at(backend, beta), at(backend, out), rows, d, eps);
      return out;
    },
  });
}
