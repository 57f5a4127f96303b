// Hugging Face config.json → the typed config our forward passes use.
// Field names and defaults follow `transformers` (GPT2Config, LlamaConfig, Qwen2Config,
// MistralConfig, ViTConfig) so that a checkpoint written by either side reads the same on the other.
import { shown } from '../io/shown';

export type Activation = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu' | 'silu';

export interface Gpt2Config {
  kind: 'gpt2';
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nInner: number;
  activation: Activation;
  layerNormEps: number;
  /** The config.json as read, kept so an export writes back every field we do not model. */
  raw: Record<string, unknown>;
}

export interface VitConfig {
  kind: 'vit';
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  activation: Activation;
  layerNormEps: number;
  imageSize: number;
  patchSize: number;
  numChannels: number;
  qkvBias: boolean;
  /** Class names in id order (from id2label). */
  labels: string[];
  raw: Record<string, unknown>;
}

/** Rotary position embedding frequencies rescaled for a longer context, as `rope_scaling` says. */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositions: number;
    };

/** The Llama family on one code path: LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM. */
export interface LlamaConfig {
  kind: 'llama';
  architecture: 'LlamaForCausalLM' | 'Qwen2ForCausalLM' | 'MistralForCausalLM';
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Grouped-query attention: each key/value head serves numHeads / numKvHeads query heads. */
  numKvHeads: number;
  headDim: number;
  maxPositions: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  /** Biases on q, k and v (Qwen2 always; Llama's attention_bias). */
  qkvBias: boolean;
  /** Bias on o_proj (Llama's attention_bias; Qwen2 has none). */
  outputBias: boolean;
  /** Biases on gate, up and down (Llama's mlp_bias). */
  mlpBias: boolean;
  tieWordEmbeddings: boolean;
  /** Mistral (and Qwen2 with use_sliding_window): a query sees only the last `slidingWindow` positions. */
  slidingWindow: number | null;
  /** Per block, whether the window applies (Qwen2: from max_window_layers on; `layer_types` where given). */
  slidingLayers: boolean[];
  activation: Activation;
  raw: Record<string, unknown>;
}

export type ModelConfig = Gpt2Config | LlamaConfig | VitConfig;
export type ModelKind = ModelConfig['kind'];
/** The causal language models: every family but ViT. */
export type CausalLmConfig = Gpt2Config | LlamaConfig;

export const isCausalLm = (c: ModelConfig): c is CausalLmConfig => c.kind !== 'vit';

export class ConfigError extends Error {}

const ACTIVATIONS: readonly Activation[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu', 'silu'];

function field(raw: Record<string, unknown>, name: string, fallback?: unknown): unknown {
  const v = raw[name];
  if (v === undefined || v === null) {
    if (fallback === undefined) throw new ConfigError(`config.json: missing field "${name}"`);
    return fallback;
  }
  return v;
}

/** The largest size a field may give: tensor dimensions are int32 everywhere the model goes. */
const MAX_SIZE = 2 ** 31 - 1;
/** The most blocks or classes: parsing makes an array of that many, so a huge claim must stop here. */
const MAX_COUNT = 2 ** 20;

function positiveInt(raw: Record<string, unknown>, name: string, fallback?: number, max = MAX_SIZE): number {
  const v = field(raw, name, fallback);
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(`config.json: "${name}" must be a positive integer, got ${shown(v)}`);
  }
  if (v > max) throw new ConfigError(`config.json: "${name}" is ${v}, more than the ${max} the engine allows`);
  return v;
}

function positiveNumber(raw: Record<string, unknown>, name: string, fallback: number): number {
  const v = field(raw, name, fallback);
  if (typeof v !== 'number' || !(v > 0)) {
    throw new ConfigError(`config.json: "${name}" must be a positive number, got ${shown(v)}`);
  }
  return v;
}

function activation(raw: Record<string, unknown>, name: string, fallback: Activation): Activation {
  const v = field(raw, name, fallback);
  if (!ACTIVATIONS.includes(v as Activation)) {
    throw new ConfigError(
      `config.json: activation ${shown(v)} in "${name}" is not supported (supported: ${ACTIVATIONS.join(', ')})`,
    );
  }
  return v as Activation;
}

function architecture(raw: Record<string, unknown>): string {
  const archs = raw.architectures;
  if (Array.isArray(archs) && typeof archs[0] === 'string') return archs[0];
  const byType: Record<string, string> = {
    gpt2: 'GPT2LMHeadModel',
    llama: 'LlamaForCausalLM',
    qwen2: 'Qwen2ForCausalLM',
    mistral: 'MistralForCausalLM',
    vit: 'ViTForImageClassification',
  };
  if (typeof raw.model_type === 'string' && byType[raw.model_type]) return byType[raw.model_type];
  throw new ConfigError('config.json: neither "architectures" nor a known "model_type" is given');
}

export function parseConfig(json: unknown): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError('config.json: expected a JSON object');
  }
  const raw = json as Record<string, unknown>;
  const arch = architecture(raw);
  if (arch === 'GPT2LMHeadModel') return parseGpt2(raw);
  if (arch === 'LlamaForCausalLM' || arch === 'Qwen2ForCausalLM' || arch === 'MistralForCausalLM')
    return parseLlama(raw, arch);
  if (arch === 'ViTForImageClassification') return parseVit(raw);
  throw new ConfigError(
    `config.json: architecture "${arch}" is not supported (supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`,
  );
}

export const SUPPORTED_ARCHITECTURES = [
  'GPT2LMHeadModel',
  'LlamaForCausalLM',
  'Qwen2ForCausalLM',
  'MistralForCausalLM',
  'ViTForImageClassification',
] as const;

function bool(raw: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const v = field(raw, name, fallback);
  if (typeof v !== 'boolean') throw new ConfigError(`config.json: "${name}" must be true or false, got ${shown(v)}`);
  return v;
}

/** `rope_scaling` of the types the engine computes; absent or null: none. */
function ropeScaling(raw: Record<string, unknown>): RopeScaling | null {
  const r = raw.rope_scaling;
  if (r === undefined || r === null) return null;
  if (typeof r !== 'object' || Array.isArray(r)) throw new ConfigError('config.json: "rope_scaling" must be an object');
  const o = r as Record<string, unknown>;
  const type = o.rope_type ?? o.type;
  const num = (name: string, fallback?: number) => positiveNumber(o, name, fallback as number);
  if (type === 'default') return null;
  if (type === 'linear') return { type: 'linear', factor: num('factor') };
  if (type === 'llama3') {
    return {
      type: 'llama3',
      factor: num('factor'),
      lowFreqFactor: num('low_freq_factor', 1),
      highFreqFactor: num('high_freq_factor', 4),
      originalMaxPositions: positiveInt(o, 'original_max_position_embeddings', 8192),
    };
  }
  throw new ConfigError(
    `config.json: rope_scaling of type ${shown(type)} is not supported (supported: linear, llama3)`,
  );
}

function parseLlama(raw: Record<string, unknown>, architecture: LlamaConfig['architecture']): LlamaConfig {
  const hiddenSize = positiveInt(raw, 'hidden_size', 4096);
  const numHeads = positiveInt(raw, 'num_attention_heads', 32);
  const numKvHeads = positiveInt(raw, 'num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new ConfigError(
      `config.json: num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`,
    );
  }
  const headDim = positiveInt(raw, 'head_dim', Math.floor(hiddenSize / numHeads));
  if (raw.head_dim === undefined && hiddenSize % numHeads !== 0) {
    throw new ConfigError(`config.json: hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`);
  }
  if (headDim % 2 !== 0) throw new ConfigError(`config.json: head_dim ${headDim} must be even for rotary embeddings`);
  const qwen = architecture === 'Qwen2ForCausalLM';
  const attentionBias = bool(raw, 'attention_bias', false);
  const numLayers = positiveInt(raw, 'num_hidden_layers', 32, MAX_COUNT);
  // Mistral's window applies to every block whenever it is set; Qwen2's only with
  // use_sliding_window, and then to the blocks from max_window_layers on (or as layer_types says).
  const window =
    raw.sliding_window === undefined || raw.sliding_window === null ? null : positiveInt(raw, 'sliding_window');
  const slidingWindow =
    architecture === 'MistralForCausalLM' || (qwen && bool(raw, 'use_sliding_window', false)) ? window : null;
  const slidingLayers = Array.from({ length: numLayers }, (_, l) => {
    if (slidingWindow === null) return false;
    if (Array.isArray(raw.layer_types)) return raw.layer_types[l] === 'sliding_attention';
    return !qwen || l >= positiveInt(raw, 'max_window_layers', 28);
  });
  return {
    kind: 'llama',
    architecture,
    vocabSize: positiveInt(raw, 'vocab_size', 32000),
    hiddenSize,
    intermediateSize: positiveInt(raw, 'intermediate_size', 11008),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    maxPositions: positiveInt(raw, 'max_position_embeddings', 2048),
    rmsNormEps: positiveNumber(raw, 'rms_norm_eps', 1e-6),
    ropeTheta: positiveNumber(raw, 'rope_theta', 10000),
    ropeScaling: ropeScaling(raw),
    qkvBias: qwen || attentionBias,
    outputBias: !qwen && attentionBias,
    mlpBias: bool(raw, 'mlp_bias', false),
    tieWordEmbeddings: bool(raw, 'tie_word_embeddings', false),
    slidingWindow,
    slidingLayers,
    activation: activation(raw, 'hidden_act', 'silu'),
    raw,
  };
}

function parseGpt2(raw: Record<string, unknown>): Gpt2Config {
  const nEmbd = positiveInt(raw, 'n_embd', 768);
  const nHead = positiveInt(raw, 'n_head', 12);
  if (nEmbd % nHead !== 0) throw new ConfigError(`config.json: n_embd ${nEmbd} is not divisible by n_head ${nHead}`);
  return {
    kind: 'gpt2',
    vocabSize: positiveInt(raw, 'vocab_size', 50257),
    nPositions: positiveInt(raw, 'n_positions', 1024),
    nEmbd,
    nLayer: positiveInt(raw, 'n_layer', 12, MAX_COUNT),
    nHead,
    nInner: positiveInt(raw, 'n_inner', 4 * nEmbd),
    activation: activation(raw, 'activation_function', 'gelu_new'),
    layerNormEps: positiveNumber(raw, 'layer_norm_epsilon', 1e-5),
    raw,
  };
}

function parseVit(raw: Record<string, unknown>): VitConfig {
  const hiddenSize = positiveInt(raw, 'hidden_size', 768);
  const numHeads = positiveInt(raw, 'num_attention_heads', 12);
  if (hiddenSize % numHeads !== 0) {
    throw new ConfigError(`config.json: hidden_size ${hiddenSize} is not divisible by num_attention_heads ${numHeads}`);
  }
  const imageSize = positiveInt(raw, 'image_size', 224);
  const patchSize = positiveInt(raw, 'patch_size', 16);
  if (imageSize % patchSize !== 0) {
    throw new ConfigError(`config.json: image_size ${imageSize} is not divisible by patch_size ${patchSize}`);
  }
  return {
    kind: 'vit',
    hiddenSize,
    numLayers: positiveInt(raw, 'num_hidden_layers', 12, MAX_COUNT),
    numHeads,
    intermediateSize: positiveInt(raw, 'intermediate_size', 3072),
    activation: activation(raw, 'hidden_act', 'gelu'),
    layerNormEps: positiveNumber(raw, 'layer_norm_eps', 1e-12),
    imageSize,
    patchSize,
    numChannels: positiveInt(raw, 'num_channels', 3),
    qkvBias: field(raw, 'qkv_bias', true) !== false,
    labels: vitLabels(raw),
    raw,
  };
}

function vitLabels(raw: Record<string, unknown>): string[] {
  const id2label = raw.id2label;
  if (typeof id2label !== 'object' || id2label === null) {
    const n = positiveInt(raw, 'num_labels', 2, MAX_COUNT);
    return Array.from({ length: n }, (_, i) => `LABEL_${i}`);
  }
  const entries = Object.entries(id2label as Record<string, unknown>);
  const labels: string[] = new Array(entries.length);
  for (const [k, v] of entries) {
    const i = Number(k);
    if (!Number.isInteger(i) || i < 0 || i >= entries.length || typeof v !== 'string') {
      throw new ConfigError(`config.json: id2label must map 0..${entries.length - 1} to names, got key ${k}`);
    }
    labels[i] = v;
  }
  return labels;
}

/** Number of transformer blocks, whatever the architecture calls it. */
export function numLayers(c: ModelConfig): number {
  return c.kind === 'gpt2' ? c.nLayer : c.numLayers;
}
/** Query heads per block. */
export function numHeads(c: ModelConfig): number {
  return c.kind === 'gpt2' ? c.nHead : c.numHeads;
}
/** Key/value heads per block: fewer than the query heads under grouped-query attention. */
export function numKvHeads(c: ModelConfig): number {
  return c.kind === 'llama' ? c.numKvHeads : numHeads(c);
}
/** Width of one attention head. */
export function headDim(c: ModelConfig): number {
  return c.kind === 'llama' ? c.headDim : hiddenSize(c) / numHeads(c);
}
export function hiddenSize(c: ModelConfig): number {
  return c.kind === 'gpt2' ? c.nEmbd : c.hiddenSize;
}
export function ffnSize(c: ModelConfig): number {
  return c.kind === 'gpt2' ? c.nInner : c.intermediateSize;
}
/** Width of the model's output: vocabulary or classes. */
export function outputClasses(c: ModelConfig): number {
  return isCausalLm(c) ? c.vocabSize : c.labels.length;
}
/** The `transformers` class that loads this checkpoint. */
export function architectureOf(c: ModelConfig): string {
  return c.kind === 'gpt2' ? 'GPT2LMHeadModel' : c.kind === 'vit' ? 'ViTForImageClassification' : c.architecture;
}
/** The longest sequence the model's positions cover. */
export function contextLength(c: CausalLmConfig): number {
  return c.kind === 'gpt2' ? c.nPositions : c.maxPositions;
}
/**
 * Tokens one example holds: for a language model its context, at most DEFAULT_WINDOW tokens (a
 * Qwen2's 32,768-token context is not a sensible window to calibrate or measure on a CPU); patches +
 * CLS for the ViT.
 */
export function sequenceLength(c: ModelConfig): number {
  return isCausalLm(c) ? Math.min(contextLength(c), DEFAULT_WINDOW) : (c.imageSize / c.patchSize) ** 2 + 1;
}

/** The window a language model is calibrated and measured on when nothing else is asked. */
export const DEFAULT_WINDOW = 2048;
