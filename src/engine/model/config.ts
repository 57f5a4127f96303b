// Hugging Face config.json → the typed config our forward passes use.
// Field names and defaults follow `transformers` (GPT2Config, ViTConfig) so that a checkpoint
// written by either side reads the same on the other.

export type Activation = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu';

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

export type ModelConfig = Gpt2Config | VitConfig;

export class ConfigError extends Error {}

const ACTIVATIONS: readonly Activation[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'];

function field(raw: Record<string, unknown>, name: string, fallback?: unknown): unknown {
  const v = raw[name];
  if (v === undefined || v === null) {
    if (fallback === undefined) throw new ConfigError(`config.json: missing field "${name}"`);
    return fallback;
  }
  return v;
}

function positiveInt(raw: Record<string, unknown>, name: string, fallback?: number): number {
  const v = field(raw, name, fallback);
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new ConfigError(`config.json: "${name}" must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function positiveNumber(raw: Record<string, unknown>, name: string, fallback: number): number {
  const v = field(raw, name, fallback);
  if (typeof v !== 'number' || !(v > 0)) {
    throw new ConfigError(`config.json: "${name}" must be a positive number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function activation(raw: Record<string, unknown>, name: string, fallback: Activation): Activation {
  const v = field(raw, name, fallback);
  if (!ACTIVATIONS.includes(v as Activation)) {
    throw new ConfigError(
      `config.json: activation "${String(v)}" in "${name}" is not supported (supported: ${ACTIVATIONS.join(', ')})`,
    );
  }
  return v as Activation;
}

function architecture(raw: Record<string, unknown>): string {
  const archs = raw.architectures;
  if (Array.isArray(archs) && typeof archs[0] === 'string') return archs[0];
  if (raw.model_type === 'gpt2') return 'GPT2LMHeadModel';
  if (raw.model_type === 'vit') return 'ViTForImageClassification';
  throw new ConfigError('config.json: neither "architectures" nor a known "model_type" is given');
}

export function parseConfig(json: unknown): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError('config.json: expected a JSON object');
  }
  const raw = json as Record<string, unknown>;
  const arch = architecture(raw);
  if (arch === 'GPT2LMHeadModel') return parseGpt2(raw);
  if (arch === 'ViTForImageClassification') return parseVit(raw);
  throw new ConfigError(
    `config.json: architecture "${arch}" is not supported (supported: GPT2LMHeadModel, ViTForImageClassification)`,
  );
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
    nLayer: positiveInt(raw, 'n_layer', 12),
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
    numLayers: positiveInt(raw, 'num_hidden_layers', 12),
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
    const n = positiveInt(raw, 'num_labels', 2);
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
export function numHeads(c: ModelConfig): number {
  return c.kind === 'gpt2' ? c.nHead : c.numHeads;
}
export function hiddenSize(c: ModelConfig): number {
  return c.kind === 'gpt2' ? c.nEmbd : c.hiddenSize;
}
export function ffnSize(c: ModelConfig): number {
  return c.kind === 'gpt2' ? c.nInner : c.intermediateSize;
}
/** Tokens one example holds: the context for the LM, patches + CLS for the ViT. */
export function sequenceLength(c: ModelConfig): number {
  return c.kind === 'gpt2' ? c.nPositions : (c.imageSize / c.patchSize) ** 2 + 1;
}
