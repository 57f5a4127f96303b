// The WASM backend's kernels for the fused ops of fused.ts, SIMD (assembly/simd.ts): layer norm in
// two passes over each row (TensorFlow.js's moments, subtract, rsqrt, multiply and add make nine
// tensors of the activation's size), each activation in one pass (exact GELU five op by op, the
// tanh GELU six, SiLU two), xᵀx as half a product with no transposed copy of x, and attention
// reading each head where the projections left it (no split, transpose, mask or merge of heads; the
// causal half of the scores never computed).
import * as tf from '@tensorflow/tfjs';
import { ATTENTION, GELU_ERF, GELU_TANH, GRAM, LAYER_NORM, SILU } from './fused';
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
  tf.registerKernel({
    kernelName: ATTENTION,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend: b, attrs }) => {
      const backend = b as WasmBackendInternals;
      const { q, k, v } = inputs as { q: tf.TensorInfo; k: tf.TensorInfo; v: tf.TensorInfo };
      const { headDim: dh, causal } = attrs as unknown as { headDim: number; causal: number };
      const [batch, t, width] = q.shape as [number, number, number];
      const heads = width / dh;
      const kvHeads = k.shape[2]! / dh;
      if (
        q.shape.length !== 3 ||
        k.shape.join() !== v.shape.join() ||
        k.shape[0] !== batch ||
        k.shape[1] !== t ||
        !Number.isInteger(heads) ||
        !Number.isInteger(kvHeads) ||
        kvHeads === 0 ||
        heads % kvHeads !== 0
      )
        throw new Error(`attention: q [${q.shape}], k [${k.shape}], v [${v.shape}] in heads of ${dh}`);
      const out = backend.makeOutput(q.shape, 'float32');
      if (batch * t * heads === 0) return out;
      // A head's keys transposed and four rows of scores, t rounded up to whole vectors.
      const scratch = backend.makeOutput([(dh + 4) * Math.ceil(t / 4) * 4], 'float32');
      try {
        simd.attention(
          at(backend, q),
          at(backend, k),
          at(backend, v),
          at(backend, out),
          at(backend, scratch),
          batch,
          t,
          heads,
          kvHeads,
          dh,
          causal,
          1 / Math.sqrt(dh),
        );
      } finally {
        backend.disposeData(scratch.dataId);
      }
      return out;
    },
  });
}
