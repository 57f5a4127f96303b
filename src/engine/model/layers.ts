// Building blocks both architectures share: layer norm, linear layers in either weight layout,
// activations, multi-head attention, and the bookkeeping for masks and captured statistics.
import * as tf from '@tensorflow/tfjs';
import type { Activation } from './config';
import type { LinearSpec } from './schema';
import type { ForwardOptions, ForwardOutput, Weights } from './types';

export class ForwardContext {
  readonly out: Omit<ForwardOutput, 'logits'> = {};

  constructor(
    private readonly weights: Weights,
    readonly options: ForwardOptions,
  ) {
    const cap = options.capture ?? {};
    if (cap.attention) this.out.attention = [];
    if (cap.hidden) {
      this.out.hiddenIn = [];
      this.out.hiddenOut = [];
    }
    if (cap.activationStats) this.out.activationSqSum = {};
    if (cap.activationGram) this.out.activationGram = {};
  }

  /** The named checkpoint tensor, with its per-weight mask applied when one is given. */
  param(name: string): tf.Tensor {
    const w = this.weights.get(name);
    if (!w) throw new Error(`forward: missing tensor "${name}"`);
    const mask = this.options.masks?.weights?.get(name);
    return mask ? tf.mul(w, mask) : w;
  }

  has(name: string): boolean {
    return this.weights.has(name);
  }

  /** y = x·W + b over the last axis of x, for either stored layout of W. */
  linear(spec: LinearSpec, x: tf.Tensor): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, spec.inFeatures]);
    if (this.out.activationSqSum) this.out.activationSqSum[spec.weight] = tf.sum(tf.square(x2), 0);
    const gram = this.options.capture?.activationGram;
    if (gram && (gram === true || gram(spec.weight))) this.out.activationGram![spec.weight] = tf.matMul(x2, x2, true, false);
    let w = this.param(spec.weight);
    if (w.rank !== 2) w = tf.reshape(w, [spec.outFeatures, spec.inFeatures]); // conv patch kernel
    let y = tf.matMul(x2, w, false, spec.layout === 'out_in');
    if (spec.bias) y = tf.add(y, this.param(spec.bias));
    return tf.reshape(y, [...lead, spec.outFeatures]);
  }

  layerNorm(prefix: string, x: tf.Tensor, eps: number): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(normed, this.param(`${prefix}.weight`)), this.param(`${prefix}.bias`));
  }

  /** Multiplies the FFN's intermediate activations [.., inner] by the neuron mask of `layer`. */
  maskNeurons(layer: number, h: tf.Tensor): tf.Tensor {
    const m = this.options.masks?.neurons?.[layer];
    return m ? tf.mul(h, tf.tensor1d(m)) : h;
  }

  keepAttention(layer: number): boolean {
    return this.options.masks?.attention?.[layer] !== false;
  }

  keepMlp(layer: number): boolean {
    return this.options.masks?.mlp?.[layer] !== false;
  }

  /**
   * Scaled dot-product attention over q, k, v of shape [B, T, d], split into heads.
   * Returns the merged context [B, T, d] with removed heads zeroed.
   */
  attention(layer: number, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, nHead: number, causal: boolean): tf.Tensor {
    const [b, t, d] = q.shape;
    const dh = d / nHead;
    const split = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [b, t, nHead, dh]), [0, 2, 1, 3]);
    let scores = tf.mul(tf.matMul(split(q), split(k), false, true), 1 / Math.sqrt(dh));
    if (causal) {
      const future = tf.sub(1, tf.linalg.bandPart(tf.ones([t, t]), -1, 0));
      scores = tf.add(scores, tf.mul(future, -1e9));
    }
    const probs = tf.softmax(scores, -1);
    this.out.attention?.push(probs);
    let context = tf.matMul(probs, split(v)); // [B, H, T, dh]
    const headMask = this.options.masks?.heads?.[layer];
    if (headMask) context = tf.mul(context, tf.reshape(tf.tensor1d(headMask), [1, nHead, 1, 1]));
    return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [b, t, d]);
  }
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export function activate(kind: Activation, x: tf.Tensor): tf.Tensor {
  switch (kind) {
    case 'gelu': // exact: x·Φ(x)
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case 'gelu_new':
    case 'gelu_pytorch_tanh': {
      const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), SQRT_2_OVER_PI);
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
    }
    case 'relu':
      return tf.relu(x);
  }
}
