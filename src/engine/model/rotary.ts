// Rotary position embeddings as `transformers` computes them for the Llama family
// (modeling_rope_utils.py and LlamaRotaryEmbedding): inverse frequencies θ^(−2i/d) for i < d/2, rescaled
// by `rope_scaling` ('linear': divided by the factor; 'llama3': long wavelengths divided by the
// factor, short ones kept, a smooth blend between), and each head's vector rotated by
// x·cos(pθ) + rotate_half(x)·sin(pθ) at its position p, with rotate_half(x) = [−x₂, x₁] over the two
// halves and the angles repeated over both halves.
import * as tf from '@tensorflow/tfjs';
import type { LlamaConfig } from './config';

/** The inverse frequencies, length headDim / 2. */
export function ropeInvFreq(c: Pick<LlamaConfig, 'headDim' | 'ropeTheta' | 'ropeScaling'>): Float32Array {
  const half = c.headDim / 2;
  const base = Array.from({ length: half }, (_, i) => 1 / c.ropeTheta ** ((2 * i) / c.headDim));
  const s = c.ropeScaling;
  if (!s) return Float32Array.from(base);
  if (s.type === 'linear') return Float32Array.from(base, (f) => f / s.factor);
  const lowFreqWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositions / s.highFreqFactor;
  return Float32Array.from(base, (f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen > lowFreqWavelen) return f / s.factor;
    if (wavelen < highFreqWavelen) return f;
    const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    return (1 - smooth) * (f / s.factor) + smooth * f;
  });
}

/**
 * x [B, H, T, d] (or [B, T, H, d] with `headAxis` 2) rotated at positions [B or 1, T] (int32: each
 * token's original position, which token pruning keeps).
 */
export function applyRotary(x: tf.Tensor, positions: tf.Tensor, invFreq: Float32Array, headAxis: 1 | 2 = 1): tf.Tensor {
  return tf.tidy(() => {
    const d = x.shape[3]!;
    const angles = tf.mul(tf.expandDims(tf.cast(positions, 'float32'), -1), tf.tensor1d(invFreq)); // [B, T, d/2]
    const full = tf.expandDims(tf.concat([angles, angles], -1), headAxis); // [B, 1, T, d] or [B, T, 1, d]
    const [x1, x2] = tf.split(x, [d / 2, d / 2], -1);
    const rotated = tf.concat([tf.neg(x2), x1], -1);
    return tf.add(tf.mul(x, tf.cos(full)), tf.mul(rotated, tf.sin(full)));
  });
}

/** The same for one head's vector at one position (the plain-TS reference). */
export function rotateReference(x: ArrayLike<number>, position: number, invFreq: Float32Array): number[] {
  const half = x.length / 2;
  const out = new Array<number>(x.length);
  for (let i = 0; i < half; i++) {
    const a = position * invFreq[i];
    const cos = Math.cos(a);
    const sin = Math.sin(a);
    out[i] = x[i] * cos - x[i + half] * sin;
    out[i + half] = x[i + half] * cos + x[i] * sin;
  }
  return out;
}
