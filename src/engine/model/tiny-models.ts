// Tiny random checkpoints of each architecture, for tests and for trying the loaders: small enough
// for the plain-TypeScript reference forward, odd sizes so no shape coincides with another.
import { parseConfig, type Gpt2Config, type LlamaConfig, type ModelConfig, type VitConfig } from './config';
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

/**
 * A Llama: grouped-query attention (4 query heads over 2 key/value heads), head_dim 6 set apart
 * from hidden / heads, llama3 rope scaling, untied head. The Qwen2 and Mistral variants below change
 * only what those architectures change.
 */
export const TINY_LLAMA_CONFIG = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 41,
  hidden_size: 16,
  intermediate_size: 28,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 6,
  max_position_embeddings: 32,
  rms_norm_eps: 1e-5,
  rope_theta: 500,
  rope_scaling: {
    rope_type: 'llama3',
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 8,
  },
  hidden_act: 'silu',
  tie_word_embeddings: false,
};

/** Qwen2: biases on q, k and v; tied embeddings; linear rope scaling. */
export const TINY_QWEN2_CONFIG = {
  ...TINY_LLAMA_CONFIG,
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  head_dim: undefined,
  rope_scaling: { type: 'linear', factor: 2 },
  tie_word_embeddings: true,
};

/** Mistral: a sliding window shorter than the tests' sequences. */
export const TINY_MISTRAL_CONFIG = {
  ...TINY_LLAMA_CONFIG,
  architectures: ['MistralForCausalLM'],
  model_type: 'mistral',
  rope_scaling: null,
  sliding_window: 4,
};

export const tinyGpt2 = () => parseConfig(TINY_GPT2_CONFIG) as Gpt2Config;
export const tinyLlama = (overrides: Record<string, unknown> = {}) =>
  parseConfig({ ...TINY_LLAMA_CONFIG, ...overrides }) as LlamaConfig;
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
export function randomHostWeights(config: ModelConfig, seed: number, scale = 0.3): Map<string, HostTensor> {
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
