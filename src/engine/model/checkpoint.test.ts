import { describe, expect, it } from 'vitest';
import { loadCheckpoint, serializeWeights, CheckpointError } from './checkpoint';
import { ConfigError } from './config';
import { byteLevelTokenizerJson } from './tokenizer';
import { randomHostWeights, tinyGpt2, tinyVit, TINY_GPT2_CONFIG, TINY_VIT_CONFIG } from './tiny-models';
import { readSafetensors, writeSafetensors, type TensorEntry } from '../io/safetensors';

const tokenizer = byteLevelTokenizerJson();
const gptConfig = { ...TINY_GPT2_CONFIG, vocab_size: 256 };

function gptFile(rename: (n: string) => string = (n) => n, extra: Record<string, TensorEntry> = {}) {
  const host = randomHostWeights({ ...tinyGpt2(), vocabSize: 256 }, 3);
  const entries: Record<string, TensorEntry> = { ...extra };
  for (const [name, t] of host) entries[rename(name)] = { dtype: 'F32', shape: t.shape, data: t.data };
  return { host, bytes: writeSafetensors(entries, { format: 'pt' }) };
}

describe('checkpoints', () => {
  it('round-trips a ViT checkpoint through serialize → load, bit for bit', () => {
    const host = randomHostWeights(tinyVit(), 5);
    const bytes = serializeWeights(host);
    expect(readSafetensors(bytes).metadata).toEqual({ format: 'pt' });
    const ck = loadCheckpoint({ config: TINY_VIT_CONFIG, weights: bytes });
    expect(ck.config.kind).toBe('vit');
    expect(ck.tokenizer).toBeNull();
    expect([...ck.weights.keys()].sort()).toEqual([...host.keys()].sort());
    for (const [name, t] of host) expect(ck.weights.get(name)!.data).toEqual(t.data);
  });

  it('reads GPT-2 checkpoints saved from GPT2Model (no "transformer." prefix) and skips the causal-mask buffers', () => {
    const buffers = {
      'h.0.attn.bias': { dtype: 'F32' as const, shape: [1, 1, 16, 16], data: new Float32Array(256) },
      'h.0.attn.masked_bias': { dtype: 'F32' as const, shape: [], data: new Float32Array(1) },
    };
    const { host, bytes } = gptFile((n) => n.replace(/^transformer\./, ''), buffers);
    const ck = loadCheckpoint({ config: gptConfig, weights: bytes, tokenizer });
    expect(ck.weights.get('transformer.wte.weight')!.data).toEqual(host.get('transformer.wte.weight')!.data);
    expect(ck.ignored.sort()).toEqual(['h.0.attn.bias', 'h.0.attn.masked_bias']);
    expect(ck.tokenizer!.encode('Hi')).toEqual([72, 105]);
  });

  it('uses an untied lm_head.weight when the checkpoint has one', () => {
    const head = { 'lm_head.weight': { dtype: 'F32' as const, shape: [256, 16], data: new Float32Array(256 * 16) } };
    const { bytes } = gptFile(undefined, head);
    expect(loadCheckpoint({ config: gptConfig, weights: bytes, tokenizer }).weights.has('lm_head.weight')).toBe(true);
  });

  it('names the tensor when the weights do not match the config', () => {
    const { bytes } = gptFile();
    expect(() => loadCheckpoint({ config: { ...gptConfig, n_inner: 32 }, weights: bytes, tokenizer })).toThrow(
      /tensor "transformer\.h\.0\.mlp\.c_fc\.weight" has shape \[16,24\] but config\.json implies \[16,32\]/,
    );
    expect(() => loadCheckpoint({ config: { ...gptConfig, n_layer: 3 }, weights: bytes, tokenizer })).toThrow(
      /tensor "transformer\.h\.2\.ln_1\.weight" is missing/,
    );
  });

  it('rejects integer weights, a missing tokenizer, and a tokenizer larger than the vocabulary', () => {
    const host = randomHostWeights(tinyVit(), 1);
    const entries: Record<string, TensorEntry> = {};
    for (const [name, t] of host) entries[name] = { dtype: 'F32', shape: t.shape, data: t.data };
    entries['classifier.bias'] = { dtype: 'I32', shape: [5], data: new Int32Array(5) };
    expect(() => loadCheckpoint({ config: TINY_VIT_CONFIG, weights: writeSafetensors(entries) })).toThrow(
      /"classifier\.bias" has dtype I32/,
    );
    const { bytes } = gptFile();
    expect(() => loadCheckpoint({ config: gptConfig, weights: bytes })).toThrow(CheckpointError);
    expect(() => loadCheckpoint({ config: gptConfig, weights: bytes })).toThrow(/tokenizer\.json is missing/);
  });

  it('rejects unsupported or inconsistent configs with a clear message', () => {
    const { bytes } = gptFile();
    expect(() => loadCheckpoint({ config: { architectures: ['PhiForCausalLM'] }, weights: bytes })).toThrow(
      /"PhiForCausalLM" is not supported/,
    );
    expect(() => loadCheckpoint({ config: { ...gptConfig, n_head: 5 }, weights: bytes })).toThrow(ConfigError);
    expect(() => loadCheckpoint({ config: { ...gptConfig, activation_function: 'swish' }, weights: bytes })).toThrow(
      /activation "swish"/,
    );
    expect(() => loadCheckpoint({ config: [], weights: bytes })).toThrow(/expected a JSON object/);
  });
});
