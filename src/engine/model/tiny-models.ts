// Tiny random checkpoints of each architecture, for tests and for trying the loaders: small enough
// for the plain-TypeScript reference forward, odd sizes so no shape coincides with another.
import { parseConfig, type Gpt2Config, type VitConfig } from './config';
import type { HostTensor } from './checkpoint';
import { paramSpecs } from './schema';

export const TINY_GPT2_CONFIG = {
  architectures: ['GPT2LMHeadModel'],
  model_type: 'gpt2',
  vocab_size: 37,
  n_positions: 16,
  n_embd: 16,
  n_layer: 2,
  n_head: 2,
  n_inner: 24,
  activation_function: 'gelu_new',
  layer_norm_epsilon: 1e-5,
};

export const TINY_VIT_CONFIG = {
  architectures: ['ViTForImageClassification'],
  model_type: 'vit',
  hidden_size: 12,
  num_hidden_layers: 2,
  num_attention_heads: 3,
  intermediate_size: 20,
  hidden_act: 'gelu',
  layer_norm_eps: 1e-12,
  image_size: 8,
  patch_size: 4,
  num_channels: 2,
  qkv_bias: true,
  id2label: { 0: 'a', 1: 'b', 2: 'c', 3: 'd', 4: 'e' },
};

export const tinyGpt2 = () => parseConfig(TINY_GPT2_CONFIG) as Gpt2Config;
export const tinyVit = () => parseConfig(TINY_VIT_CONFIG) as VitConfig;

/** Deterministic pseudo-random values in [-scale, scale] (a small LCG; tests need no quality). */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** Random weights for every tensor of the config (layer-norm scales around 1). */
export function randomHostWeights(config: Gpt2Config | VitConfig, seed: number, scale = 0.3): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  paramSpecs(config).forEach((spec, i) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const data = randomArray(n, seed * 1000 + i, scale);
    if (spec.init === 'ones') for (let j = 0; j < n; j++) data[j] += 1;
    out.set(spec.name, { shape: spec.shape, data });
  });
  return out;
}

/** Largest elementwise |a − b|; Infinity when the lengths differ (parity checks against the reference). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
