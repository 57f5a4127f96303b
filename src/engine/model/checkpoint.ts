// A Hugging Face checkpoint (config.json + model.safetensors [+ tokenizer.json]) in and out.
// Loading checks the weights against the config tensor by tensor, so a mismatch is reported by
// name before anything runs; writing produces what `from_pretrained` loads unchanged.
import { isCausalLm, parseConfig, type ModelConfig } from './config';
import { GPT2_PREFIX, paramSpecs } from './schema';
import { loadTokenizer, type Tokenizer } from './tokenizer';
import { readSafetensorsFile, writeSafetensors, type TensorEntry } from '../io/safetensors';

/** A tensor on the host: f32 values in row-major order. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint {
  config: ModelConfig;
  weights: Map<string, HostTensor>;
  tokenizer: Tokenizer | null;
  /** Tensors in the file that the architecture does not use (e.g. GPT-2's causal-mask buffers). */
  ignored: string[];
}

export interface CheckpointFiles {
  config: unknown; // parsed config.json
  weights: Uint8Array; // model.safetensors
  tokenizer?: unknown; // parsed tokenizer.json
  tokenizerConfig?: unknown; // parsed tokenizer_config.json, when the model has one
}

export class CheckpointError extends Error {}

// Buffers some checkpoints store next to the weights; they are not parameters: GPT-2's causal
// masks, and the rotary inverse frequencies of older Llama-family uploads.
const BUFFERS: Partial<Record<ModelConfig['kind'], RegExp>> = {
  gpt2: /\.attn\.(bias|masked_bias)$/,
  llama: /\.rotary_emb\.inv_freq$/,
};

function canonicalName(config: ModelConfig, name: string): string {
  // GPT2Model checkpoints (the original `gpt2` upload) name tensors without "transformer.".
  if (config.kind === 'gpt2' && !name.startsWith(GPT2_PREFIX) && name !== 'lm_head.weight') return GPT2_PREFIX + name;
  return name;
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

export function loadCheckpoint(files: CheckpointFiles): Checkpoint {
  const config = parseConfig(files.config);
  const file = readSafetensorsFile(files.weights, 'model.safetensors');
  const found = new Map<string, TensorEntry>();
  const ignored: string[] = [];
  for (const [name, entry] of file.tensors) {
    if (BUFFERS[config.kind]?.test(name)) ignored.push(name);
    else found.set(canonicalName(config, name), entry);
  }

  const weights = new Map<string, HostTensor>();
  const specs = paramSpecs(config);
  if (config.kind === 'gpt2' && found.has('lm_head.weight')) {
    specs.push({ name: 'lm_head.weight', shape: [config.vocabSize, config.nEmbd], init: 'normal' });
  }
  for (const spec of specs) {
    const entry = found.get(spec.name);
    if (!entry)
      throw new CheckpointError(
        `model.safetensors: tensor "${spec.name}" is missing (the config expects shape [${spec.shape}])`,
      );
    if (!sameShape(entry.shape, spec.shape)) {
      throw new CheckpointError(
        `model.safetensors: tensor "${spec.name}" has shape [${entry.shape}] but config.json implies [${spec.shape}]`,
      );
    }
    if (!(entry.data instanceof Float32Array)) {
      throw new CheckpointError(
        `model.safetensors: tensor "${spec.name}" has dtype ${entry.dtype}; weights must be floating point`,
      );
    }
    weights.set(spec.name, { shape: entry.shape, data: entry.data });
    found.delete(spec.name);
  }
  ignored.push(...found.keys());

  let tokenizer: Tokenizer | null = null;
  if (isCausalLm(config)) {
    if (files.tokenizer === undefined) throw new CheckpointError('tokenizer.json is missing; a text model needs it');
    tokenizer = loadTokenizer(files.tokenizer, files.tokenizerConfig);
    if (tokenizer.vocabSize > config.vocabSize) {
      throw new CheckpointError(
        `tokenizer.json has ${tokenizer.vocabSize} tokens but config.json's vocab_size is ${config.vocabSize}`,
      );
    }
  }
  return { config, weights, tokenizer, ignored };
}

/** model.safetensors bytes for the given weights, named and laid out as `transformers` saves them. */
export function serializeWeights(weights: Map<string, HostTensor>): Uint8Array {
  const entries = new Map<string, TensorEntry>();
  for (const [name, t] of weights) entries.set(name, { dtype: 'F32', shape: t.shape, data: t.data });
  // transformers refuses safetensors files whose metadata does not name the framework.
  return writeSafetensors(entries, { format: 'pt' });
}
