// Layer norm, exact GELU, GELU's tanh approximation, SiLU and a Gram matrix xᵀx as one kernel each
// where the running backend has one (the WASM backend's SIMD kernels, wasm-fused.ts), else op by op.
// Either way the gradient is the op-by-op form's, written out in closed form (TensorFlow.js cannot
// take a gradient inside a gradient function), and wasm-kernels.test.ts holds the two equal.
// Attention is one kernel too, where no gradient is being taken (see fusedAttentionReady); so is a
// linear layer's product and bias, where the backend computes on one thread.
import * as tf from '@tensorflow/tfjs';

export const LAYER_NORM = 'EngineLayerNorm';
export const GELU_ERF = 'EngineGeluErf';
export const GELU_TANH = 'EngineGeluTanh';
export const SILU = 'EngineSilu';
export const GRAM = 'EngineGram';
export const ATTENTION = 'EngineAttention';
export const PACKED_ATTENTION = 'EnginePackedAttention';
export const LINEAR = 'EngineLinear';
export const LOG_SUM_EXP = 'EngineLogSumExp';
export const SUM_SQUARES = 'EngineSumSquares';

/** Layer norm over the last axis, op by op: (x - mean)·rsqrt(var + eps)·gamma + beta. */
export function layerNormOps(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, gamma), beta);
}

/** Exact GELU op by op: ½x·(1 + erf(x/√2)). */
export function geluErfOps(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

const GELU_LINEAR = 2 * Math.sqrt(2 / Math.PI);
const GELU_CUBIC = GELU_LINEAR * 0.044715;

/** 2z of GELU's tanh approximation ½x(1 + tanh z), z = √(2/π)(x + 0.044715x³). */
const geluTanhArgument = (x: tf.Tensor) => tf.mul(x, tf.add(tf.mul(tf.square(x), GELU_CUBIC), GELU_LINEAR));

/**
 * GELU's tanh approximation op by op, written as x·σ(2z): the same function in fewer passes, and the
 * WASM backend's sigmoid is vectorised where its tanh is not (10× here).
 */
export function geluTanhOps(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(geluTanhArgument(x)));
}

/** SiLU op by op: x·σ(x). */
export function siluOps(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/**
 * `composed(...inputs)`, computed by the kernel `name` where the backend has one; `gradient` gives
 * the gradients of the inputs from dy and the inputs.
 */
function fused(
  name: string,
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, number>,
  composed: (...xs: tf.Tensor[]) => tf.Tensor,
  gradient: (dy: tf.Tensor, xs: tf.Tensor[]) => tf.Tensor[],
): tf.Tensor {
  const xs = Object.values(inputs);
  if (!tf.getKernel(name, tf.getBackend())) return composed(...xs);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    (args[args.length - 1] as tf.GradSaveFunc)(xs);
    return {
      value: tf.engine().runKernel(name, inputs, attrs) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => gradient(dy, saved),
    };
  });
  return op(...xs);
}

export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  return fused(
    LAYER_NORM,
    { x, gamma, beta },
    { eps },
    (a, g, b) => layerNormOps(a!, g!, b!, eps),
    (dy, [a, g]) => {
      // x̂ = (x - mean)·r, r = rsqrt(var + eps): dx = r·(dx̂ - mean(dx̂) - x̂·mean(dx̂·x̂)), dx̂ = dy·gamma.
      const { mean, variance } = tf.moments(a!, -1, true);
      const r = tf.rsqrt(tf.add(variance, eps));
      const normed = tf.mul(tf.sub(a!, mean), r);
      const dNormed = tf.mul(dy, g!);
      const centred = tf.sub(dNormed, tf.mean(dNormed, -1, true));
      const dx = tf.mul(r, tf.sub(centred, tf.mul(normed, tf.mean(tf.mul(dNormed, normed), -1, true))));
      const rows = a!.shape.slice(0, -1).map((_, i) => i);
      return [dx, tf.sum(tf.mul(dy, normed), rows), tf.sum(dy, rows)];
    },
  );
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

export function geluErf(x: tf.Tensor): tf.Tensor {
  return fused(
    GELU_ERF,
    { x },
    {},
    (a) => geluErfOps(a!),
    // d/dx x·Φ(x) = Φ(x) + x·φ(x).
    (dy, [a]) => {
      const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(a!, Math.SQRT1_2))));
      const pdf = tf.mul(INV_SQRT_2PI, tf.exp(tf.mul(tf.square(a!), -0.5)));
      return [tf.mul(dy, tf.add(cdf, tf.mul(a!, pdf)))];
    },
  );
}

export function geluTanh(x: tf.Tensor): tf.Tensor {
  return fused(
    GELU_TANH,
    { x },
    {},
    (a) => geluTanhOps(a!),
    // d/dx x·σ(t) = σ(t) + x·σ(t)(1 - σ(t))·t', t = x(Cx² + L), t' = 3Cx² + L.
    (dy, [a]) => {
      const s = tf.sigmoid(geluTanhArgument(a!));
      const slope = tf.add(tf.mul(tf.square(a!), 3 * GELU_CUBIC), GELU_LINEAR);
      const ds = tf.mul(tf.mul(s, tf.sub(1, s)), slope);
      return [tf.mul(dy, tf.add(s, tf.mul(a!, ds)))];
    },
  );
}

export function silu(x: tf.Tensor): tf.Tensor {
  return fused(
    SILU,
    { x },
    {},
    (a) => siluOps(a!),
    // d/dx x·σ(x) = σ(x)(1 + x(1 - σ(x))).
    (dy, [a]) => {
      const s = tf.sigmoid(a!);
      return [tf.mul(dy, tf.mul(s, tf.add(1, tf.mul(a!, tf.sub(1, s)))))];
    },
  );
}

/**
 * A linear layer: x [rows, in] times w, [in, out] or, where `transposed`, [out, in] (the layout of
 * torch.nn.Linear's weight), plus bias [out].
 */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D | null, transposed: boolean): tf.Tensor2D {
  if (!bias) return tf.matMul(x, w, false, transposed);
  return fused(
    LINEAR,
    { x, w, bias },
    { transposed: transposed ? 1 : 0 },
    (a, b, c) => tf.add(tf.matMul(a!, b!, false, transposed), c!),
    (dy, [a, b]) => [
      tf.matMul(dy, b!, false, !transposed),
      transposed ? tf.matMul(dy, a!, true, false) : tf.matMul(a!, dy, true, false),
      tf.sum(dy, 0),
    ],
  ) as tf.Tensor2D;
}

/**
 * log Σ_j e^x[i, j] of each row of x [rows, n]: the log-softmax's normaliser, which a language
 * model's evaluation takes over the vocabulary at every position. One pass where the backend has
 * the kernel; op by op, the max, difference and exponential each make a tensor the logits' size
 * (400 MB each for 2,048 positions of GPT-2's vocabulary).
 */
export function logSumExpRows(x: tf.Tensor2D): tf.Tensor1D {
  return fused(
    LOG_SUM_EXP,
    { x },
    {},
    (a) => tf.logSumExp(a!, 1),
    (dy, [a]) => [tf.mul(tf.expandDims(dy, 1), tf.softmax(a!))],
  ) as tf.Tensor1D;
}

/** Σ_r x[r, j]² of each column of x [rows, d] (Wanda's statistic of a layer's inputs). */
export function sumSquares(x: tf.Tensor2D): tf.Tensor1D {
  return fused(
    SUM_SQUARES,
    { x },
    {},
    (a) => tf.sum(tf.square(a!), 0),
    (dy, [a]) => [tf.mul(tf.mul(a!, 2), dy)],
  ) as tf.Tensor1D;
}

/** xᵀ·x of x [rows, d] (SparseGPT's statistic of a layer's inputs). */
export function gram(x: tf.Tensor2D): tf.Tensor2D {
  return fused(
    GRAM,
    { x },
    {},
    (a) => tf.matMul(a!, a!, true, false),
    (dy, [a]) => [tf.matMul(a!, tf.add(dy, tf.transpose(dy)))],
  ) as tf.Tensor2D;
}

/**
 * Whether attention runs as one kernel (fusedAttention): where the backend has one and no gradient
 * is being taken. Training and gradient scores take the op-by-op form, whose gradient TensorFlow.js
 * has; only they need one, and that form keeps what it needs anyway.
 */
export function fusedAttentionReady(): boolean {
  return !!tf.getKernel(ATTENTION, tf.getBackend()) && !tf.engine().isTapeOn();
}

/**
 * Scaled dot-product attention softmax(q·kᵀ/√dh)·v in one kernel, q [B, T, H·dh] and k, v
 * [B, T, G·dh] in, the merged heads [B, T, H·dh] out (query head h reading key/value head
 * ⌊h·G / H⌋), causal or not. Only where fusedAttentionReady().
 */
export function fusedAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, headDim: number, causal: boolean): tf.Tensor {
  return tf.engine().runKernel(ATTENTION, { q, k, v }, { headDim, causal: causal ? 1 : 0 }) as tf.Tensor;
}

/**
 * fusedAttention of q, k and v side by side in qkv [B, T, (H + 2G)·dh], as one projection writes
 * them (GPT-2's c_attn), read where they lie: no split copies them out first.
 */
export function fusedPackedAttention(
  qkv: tf.Tensor,
  { heads, kvHeads, headDim }: { heads: number; kvHeads: number; headDim: number },
  causal: boolean,
): tf.Tensor {
  return tf
    .engine()
    .runKernel(PACKED_ATTENTION, { qkv }, { headDim, causal: causal ? 1 : 0, heads, kvHeads }) as tf.Tensor;
}
