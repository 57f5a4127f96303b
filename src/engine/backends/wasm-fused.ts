// The WASM backend's kernels for the fused ops of fused.ts, SIMD (assembly/simd.ts): layer norm in
// two passes over each row (TensorFlow.js's moments, subtract, rsqrt, multiply and add make nine
// tensors of the activation's size), each activation in one pass (exact GELU five op by op, the
// tanh GELU six, SiLU two), and xᵀx as half a product with no transposed copy of x.
import * as tf from '@tensorflow/tfjs';
import { GELU_ERF, GELU_TANH, GRAM, LAYER_NORM, SILU } from './fused';
import { offsetOf as at, type WasmBackendInternals } from './wasm-backend';
import { simdKernelsOf } from './wasm-simd';

let installed = false;

/** Registers the kernels, where the engine's SIMD module reaches the backend's memory. */
export function installFusedWasmKernels(): void {
  const wasm = tf.findBackend('wasm') as WasmBackendInternals | null;
  const simd = wasm && simdKernelsOf(wasm);
  if (installed || !simd) return;
  installed = true;
  for (const [kernelName, kernel] of [
    [GELU_ERF, simd.geluErf],
    [GELU_TANH, simd.geluTanh],
    [SILU, simd.silu],
  ] as const)
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend: b }) => {
        const backend = b as WasmBackendInternals;
        const { x } = inputs as { x: tf.TensorInfo };
        const out = backend.makeOutput(x.shape, 'float32');
        const n = tf.util.sizeFromShape(x.shape);
        if (n > 0) kernel(at(backend, x), at(backend, out), n);
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
  tf.registerKernel({
    kernelName: GRAM,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: b }) => {
      const backend = b as WasmBackendInternals;
      const { x } = inputs as { x: tf.TensorInfo };
      const [rows, d] = x.shape as [number, number];
      const out = backend.makeOutput([d, d], 'float32');
      if (d > 0) simd.gram(at(backend, x), at(backend, out), rows, d);
      return out;
    },
  });
}
