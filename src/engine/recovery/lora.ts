// LoRA (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models", arXiv:2106.09685):
// a frozen linear layer W gains a trained low-rank update, W + (alpha / r)·B·A with A [r, in] and
// B [out, r]. A starts Kaiming-uniform and B at zero, as PEFT initialises them, so the adapted
// model starts equal to the base one. On a pruned model the update is masked when merged: a weight
// the recipe removed stays 0 in W + (alpha / r)·B·A, and training sees the merged, masked weight,
// so what is trained is exactly what the merged checkpoint computes.
import * as tf from '@tensorflow/tfjs';
import type { HostTensor } from '../model/checkpoint';
import type { ModelConfig } from '../model/config';
import { type LinearSpec, linearSpecs } from '../model/schema';
import type { LinearOverride, ModelMasks, Weights } from '../model/types';
import { Mulberry32 } from '../pruning/random';
import { applyMask } from './mask';

export interface LoraSettings {
  /** r: the rank of B·A. */
  rank: number;
  /** The update is scaled by alpha / r (PEFT's lora_alpha). */
  alpha: number;
  /**
   * Weight names of the linears to adapt. Default: the linears the recipe pruned weight by weight
   * (those with a mask in ModelMasks.weights), else, for a structured recipe, every block linear.
   */
  targets?: string[];
}

/** One adapted linear: A [r, in] and B [out, r], in PEFT's lora_A / lora_B layout whatever W's. */
export interface LoraPair<T> {
  a: T;
  b: T;
}

export interface LoraAdapters<T = tf.Tensor> {
  rank: number;
  alpha: number;
  /** By the adapted linear's weight name, in the model's order of linears. */
  layers: Map<string, LoraPair<T>>;
}

export class LoraError extends Error {}

/** The linears `settings` adapts, checked: nn.Linear-like matrices of the model (not the patch convolution). */
export function loraTargets(config: ModelConfig, settings: LoraSettings, masks?: ModelMasks): LinearSpec[] {
  const specs = linearSpecs(config);
  const adaptable = (s: LinearSpec) => s.role !== 'patch';
  if (!settings.targets) {
    const pruned = specs.filter((s) => adaptable(s) && masks?.weights?.has(s.weight));
    return pruned.length > 0 ? pruned : specs.filter((s) => s.prunable);
  }
  const byName = new Map(specs.map((s) => [s.weight, s]));
  const wanted = new Set(settings.targets);
  for (const name of wanted) {
    const spec = byName.get(name);
    if (!spec) throw new LoraError(`LoRA target "${name}" is not a linear layer's weight of this model`);
    if (!adaptable(spec)) throw new LoraError(`LoRA target "${name}" is a convolution, not a linear layer`);
  }
  return specs.filter((s) => wanted.has(s.weight));
}

export function checkLoraSettings(settings: LoraSettings): void {
  if (!(Number.isInteger(settings.rank) && settings.rank >= 1))
    throw new LoraError(`the LoRA rank must be a whole number ≥ 1, got ${settings.rank}`);
  if (!(Number.isFinite(settings.alpha) && settings.alpha > 0))
    throw new LoraError(`the LoRA alpha must be a positive number, got ${settings.alpha}`);
}

/**
 * Fresh adapters for `targets`, deterministic for a seed: A uniform in ±1/√in — torch's
 * kaiming_uniform_(a = √5), which PEFT applies to lora_A: gain √(2 / (1 + 5)), bound gain·√3/√fan_in
 * — drawn in the order of the targets; B zero.
 */
export function initLora(targets: LinearSpec[], settings: LoraSettings, seed: number): LoraAdapters {
  checkLoraSettings(settings);
  const random = new Mulberry32(seed);
  const r = settings.rank;
  const layers = new Map<string, LoraPair<tf.Tensor>>();
  for (const spec of targets) {
    const bound = 1 / Math.sqrt(spec.inFeatures);
    const a = new Float32Array(r * spec.inFeatures);
    for (let i = 0; i < a.length; i++) a[i] = (2 * random.next() - 1) * bound;
    layers.set(spec.weight, {
      a: tf.tensor2d(a, [r, spec.inFeatures]),
      b: tf.zeros([spec.outFeatures, r]),
    });
  }
  return { rank: r, alpha: settings.alpha, layers };
}

/**
 * (alpha / r)·B·A in W's stored layout: [out, in] for nn.Linear, [in, out] for GPT-2's Conv1D
 * (PEFT's fan_in_fan_out transposes the same way).
 */
export function loraDelta(spec: LinearSpec, pair: LoraPair<tf.Tensor>, scale: number): tf.Tensor {
  return tf.tidy(() => {
    const ba = spec.layout === 'out_in' ? tf.matMul(pair.b, pair.a) : tf.matMul(pair.a, pair.b, true, true);
    return tf.mul(ba, scale);
  });
}

/** mask ⊙ (W + s·B·A), or W + s·B·A without a mask, in W's layout. */
function mergedWeight(
  spec: LinearSpec,
  w: tf.Tensor,
  mask: tf.Tensor | undefined,
  scale: number,
  pair: LoraPair<tf.Tensor>,
) {
  return tf.tidy(() => {
    const merged = tf.add(w, loraDelta(spec, pair, scale));
    return mask ? applyMask(merged, mask) : merged;
  });
}

/**
 * The weights with every adapter merged in: mask ⊙ (W + (alpha / r)·B·A) for an adapted linear with a
 * per-weight mask, W + (alpha / r)·B·A without one; every other tensor is `base`'s own. What the
 * model computes, for evaluations and the export (training runs the same through loraLinears).
 * The new tensors are the caller's.
 */
export function mergeLora(
  config: ModelConfig,
  base: Weights,
  adapters: LoraAdapters,
  weightMasks?: Map<string, tf.Tensor>,
): Weights {
  const out: Weights = new Map(base);
  const scale = adapters.alpha / adapters.rank;
  for (const spec of linearSpecs(config)) {
    const pair = adapters.layers.get(spec.weight);
    if (!pair) continue;
    const w = base.get(spec.weight);
    if (!w) throw new LoraError(`LoRA: the model has no tensor "${spec.weight}"`);
    out.set(spec.weight, mergedWeight(spec, w, weightMasks?.get(spec.weight), scale, pair));
  }
  return out;
}

/**
 * The adapted linears' products for a forward pass over the frozen `base`: y = x·(mask ⊙ (W + s·B·A))
 * in W's layout, what mergeLora's weights compute, differentiable in x, A and B. Each product
 * writes its gradient out so that the tape keeps x, A and B of it and nothing the size of W: the
 * merged matrix is made again in the backward pass, used and freed, and so is W's gradient
 * G = mask ⊙ ∂L/∂W, from which dA = s·Bᵀ·G and dB = s·G·Aᵀ ([out, in]; for [in, out], G is Δᵀ's
 * gradient: dA = s·(G·B)ᵀ, dB = s·(A·G)ᵀ, so that nothing full-size is transposed). Automatic
 * differentiation of the merge would keep B·A, its scaled copy, the sum and the masked sum of every
 * linear until the backward pass ends: at GPT-2 small's size, copies of the model's linears that
 * ran LoRA out of the WASM heap.
 */
export function loraLinears(
  config: ModelConfig,
  base: Weights,
  adapters: LoraAdapters,
  weightMasks?: Map<string, tf.Tensor>,
): LinearOverride {
  const scale = adapters.alpha / adapters.rank;
  const products = new Map<string, (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.Tensor>();
  for (const spec of linearSpecs(config)) {
    if (!adapters.layers.has(spec.weight)) continue;
    const w = base.get(spec.weight);
    if (!w) throw new LoraError(`LoRA: the model has no tensor "${spec.weight}"`);
    products.set(spec.weight, adaptedProduct(spec, w, weightMasks?.get(spec.weight), scale));
  }
  return {
    matmul(weight, x) {
      const product = products.get(weight);
      const pair = adapters.layers.get(weight);
      return product && pair ? (product(x, pair.a, pair.b) as tf.Tensor2D) : null;
    },
  };
}

function adaptedProduct(
  spec: LinearSpec,
  w: tf.Tensor,
  mask: tf.Tensor | undefined,
  scale: number,
): (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  const outIn = spec.layout === 'out_in';
  const f = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, a, b]);
    return {
      value: tf.matMul(x, mergedWeight(spec, w, mask, scale, { a, b }), false, outIn),
      gradFunc: (dy: tf.Tensor, [x, a, b]: tf.Tensor[]) =>
        tf.tidy(() => {
          const dx = tf.matMul(dy, mergedWeight(spec, w, mask, scale, { a, b }), false, !outIn);
          const dw = outIn ? tf.matMul(dy, x, true, false) : tf.matMul(x, dy, true, false);
          const g = mask ? applyMask(dw, mask) : dw;
          const [da, db] = outIn
            ? [tf.matMul(b, g, true, false), tf.matMul(g, a, false, true)]
            : [tf.transpose(tf.matMul(g, b)), tf.transpose(tf.matMul(a, g))];
          return [dx, tf.mul(da, scale), tf.mul(db, scale)];
        }),
    };
  };
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as (
    x: tf.Tensor,
    a: tf.Tensor,
    b: tf.Tensor,
  ) => tf.Tensor;
}

/** The tensors mergeLora made (those of the adapted linears), to free them. */
export function disposeMerged(merged: Weights, adapters: LoraAdapters): void {
  for (const name of adapters.layers.keys()) merged.get(name)?.dispose();
}

export function disposeLora(adapters: LoraAdapters): void {
  for (const { a, b } of adapters.layers.values()) tf.dispose([a, b]);
}

/** The adapters' values on the host, for an export. */
export async function hostLora(adapters: LoraAdapters): Promise<LoraAdapters<HostTensor>> {
  const layers = new Map<string, LoraPair<HostTensor>>();
  for (const [name, { a, b }] of adapters.layers) {
    const [ad, bd] = await Promise.all([a.data(), b.data()]);
    layers.set(name, {
      a: { shape: a.shape.slice(), data: ad as Float32Array },
      b: { shape: b.shape.slice(), data: bd as Float32Array },
    });
  }
  return { rank: adapters.rank, alpha: adapters.alpha, layers };
}
