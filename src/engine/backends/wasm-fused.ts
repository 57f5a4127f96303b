// The WASM backend's kernels for the fused ops of fused.ts, SIMD (assembly/simd.ts): layer norm in
// two passes over each row (TensorFlow.js's moments, subtract, rsqrt, multiply and add make nine
// tensors of the activation's size), each activation in one pass (exact GELU five op by op, the
// tanh GELU six, SiLU two), xᵀx as half a product with no transposed copy of x, and attention
// reading each head where the projections left it (no split, transpose, mask or merge of heads; the
// causal half of the scores never computed). A linear layer's bias is added as its product's sums are
// stored, on one thread (on more, XNNPACK's product shares the work and the bias stays an add).
import * as tf from '@tensorflow/tfjs';
import {
  ATTENTION,
  GELU_ERF,
  GELU_TANH,
  GRAM,
  LAYER_NORM,
  LINEAR,
  LOG_SUM_EXP,
  PACKED_ATTENTION,
  SILU,
  SUM_SQUARES,
} from './fused';
import { offsetOf as at, type WasmBackendInternals } from './wasm-backend';
import { linear } from './wasm-matmul';
import { simdKernelsOf } from './wasm-simd';

let installed = false;

/** Registers `run` as the WASM backend's kernel `kernelName`, with inputs I and numeric attributes A. */
function register<I extends string, A extends string = never>(
  kernelName: string,
  run: (backend: WasmBackendInternals, inputs: Record<I, tf.TensorInfo>, attrs: Record<A, number>) => tf.TensorInfo,
): void {
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) =>
      run(backend as WasmBackendInternals, inputs as Record<I, tf.TensorInfo>, attrs as unknown as Record<A, number>),
  });
}

/**
 * Registers the kernels, where the engine's SIMD module reaches the backend's memory; the linear
 * layer only where the backend computes on one thread.
 */
export function installFusedWasmKernels({ threads = 1 }: { threads?: number } = {}): void {
  const wasm = tf.findBackend('wasm') as WasmBackendInternals | null;
  const simd = wasm && simdKernelsOf(wasm);
  if (installed || !simd) return;
  installed = true;
  for (const [kernelName, kernel] of [
    [GELU_ERF, simd.geluErf],
    [GELU_TANH, simd.geluTanh],
    [SILU, simd.silu],
  ] as const)
    register<'x'>(kernelName, (backend, { x }) => {
      const out = backend.makeOutput(x.shape, 'float32');
      const n = tf.util.sizeFromShape(x.shape);
      if (n > 0) kernel(at(backend, x), at(backend, out), n);
      return out;
    });
  register<'x' | 'gamma' | 'beta', 'eps'>(LAYER_NORM, (backend, { x, gamma, beta }, { eps }) => {
    const d = x.shape[x.shape.length - 1]!;
    if (gamma.shape.join() !== `${d}` || beta.shape.join() !== `${d}`)
      throw new Error(`layer norm: weight [${gamma.shape}] and bias [${beta.shape}] over ${d} features`);
    const out = backend.makeOutput(x.shape, 'float32');
    const rows = d === 0 ? 0 : tf.util.sizeFromShape(x.shape) / d;
    if (rows > 0) simd.layerNorm(at(backend, x), at(backend, gamma), at(backend, beta), at(backend, out), rows, d, eps);
    return out;
  });
  register<'x'>(GRAM, (backend, { x }) => {
    const [rows, d] = x.shape as [number, number];
    const out = backend.makeOutput([d, d], 'float32');
    if (d > 0) simd.gram(at(backend, x), at(backend, out), rows, d);
    return out;
  });
  register<'x'>(SUM_SQUARES, (backend, { x }) => {
    const [rows, d] = x.shape as [number, number];
    if (x.shape.length !== 2) throw new Error(`sum of squares: rows of a matrix, not [${x.shape}]`);
    const out = backend.makeOutput([d], 'float32');
    if (d > 0) simd.sumSquares(at(backend, x), at(backend, out), rows, d);
    return out;
  });
  register<'x'>(LOG_SUM_EXP, (backend, { x }) => {
    const [rows, n] = x.shape as [number, number];
    if (x.shape.length !== 2) throw new Error(`log-sum-exp: rows of a matrix, not [${x.shape}]`);
    const out = backend.makeOutput([rows], 'float32');
    // Over no values the sum is 0 and its logarithm -∞.
    if (n === 0 || rows === 0) backend.typedArrayFromHeap(out).fill(-Infinity);
    else {
      const tops = backend.makeOutput([rows], 'float32');
      try {
        simd.expSums(at(backend, x), at(backend, out), at(backend, tops), rows, n);
        // Views taken after both allocations: an allocation can grow the heap and detach older ones.
        const values = backend.typedArrayFromHeap(out);
        const maxima = backend.typedArrayFromHeap(tops);
        for (let r = 0; r < rows; r++) values[r] = Math.fround(maxima[r]! + Math.fround(Math.log(values[r]!)));
      } finally {
        backend.disposeData(tops.dataId);
      }
    }
    return out;
  });
  if (threads === 1)
    register<'x' | 'w' | 'bias', 'transposed'>(LINEAR, (backend, { x, w, bias }, { transposed }) => {
      const [rows, k] = x.shape as [number, number];
      const [kw, n] = (transposed ? [...w.shape].reverse() : w.shape) as [number, number];
      if (x.shape.length !== 2 || w.shape.length !== 2 || k !== kw || bias.shape.join() !== `${n}`)
        throw new Error(
          `linear: x [${x.shape}], weight [${w.shape}]${transposed ? ' (out, in)' : ''}, bias [${bias.shape}]`,
        );
      const out = backend.makeOutput([rows, n], 'float32');
      if (k > 0) linear(backend, simd, x, w, bias, out, !!transposed);
      else {
        // An empty sum: each row is the bias.
        const [rowsOut, values] = [backend.typedArrayFromHeap(out), backend.typedArrayFromHeap(bias)];
        for (let r = 0; r < rows; r++) rowsOut.set(values, r * n);
      }
      return out;
    });
  /**
   * Attention's output [batch, t, heads·dh] from q, k and v at byte offsets of the heap, a token's
   * rows qStride and kvStride floats apart.
   */
  const attend = (
    backend: WasmBackendInternals,
    [q, k, v]: [number, number, number],
    [qStride, kvStride]: [number, number],
    { batch, t, heads, kvHeads, dh, causal }: Record<'batch' | 't' | 'heads' | 'kvHeads' | 'dh' | 'causal', number>,
  ): tf.TensorInfo => {
    const out = backend.makeOutput([batch, t, heads * dh], 'float32');
    if (batch * t * heads === 0) return out;
    // A head's keys transposed and four rows of scores, t rounded up to whole vectors.
    const scratch = backend.makeOutput([(dh + 4) * Math.ceil(t / 4) * 4], 'float32');
    try {
      simd.attention(
        q,
        k,
        v,
        at(backend, out),
        at(backend, scratch),
        batch,
        t,
        heads,
        kvHeads,
        dh,
        qStride,
        kvStride,
        causal,
        1 / Math.sqrt(dh),
      );
    } finally {
      backend.disposeData(scratch.dataId);
    }
    return out;
  };
  register<'q' | 'k' | 'v', 'headDim' | 'causal'>(ATTENTION, (backend, { q, k, v }, { headDim: dh, causal }) => {
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
    const shape = { batch, t, heads, kvHeads, dh, causal };
    return attend(backend, [at(backend, q), at(backend, k), at(backend, v)], [width, kvHeads * dh], shape);
  });
  register<'qkv', 'headDim' | 'causal' | 'heads' | 'kvHeads'>(
    PACKED_ATTENTION,
    (backend, { qkv }, { headDim: dh, causal, heads, kvHeads }) => {
      const [batch, t, width] = qkv.shape as [number, number, number];
      if (
        qkv.shape.length !== 3 ||
        !Number.isInteger(heads) ||
        !Number.isInteger(kvHeads) ||
        kvHeads === 0 ||
        heads % kvHeads !== 0 ||
        width !== (heads + 2 * kvHeads) * dh
      )
        throw new Error(`attention: [q | k | v] [${qkv.shape}] as ${heads} and 2 × ${kvHeads} heads of ${dh}`);
      const q = at(backend, qkv);
      const k = q + 4 * heads * dh;
      const v = k + 4 * kvHeads * dh;
      return attend(backend, [q, k, v], [width, width], { batch, t, heads, kvHeads, dh, causal });
    },
  );
}
