import { describe, expect, it } from 'vitest';
import { gatherWeightFiles, loadCheckpoint, serializeWeights, CheckpointError } from './checkpoint';
import { ConfigError, parseConfig } from './config';
import { byteLevelTokenizerJson, TokenizerError } from './tokenizer';
import {
  randomHostWeights,
  tinyGpt2,
  tinyVit,
  TINY_GPT2_CONFIG,
  TINY_LLAMA_CONFIG,
  TINY_VIT_CONFIG,
} from './tiny-models';
import { readSafetensors, SafetensorsError, writeSafetensors, type TensorEntry } from '../io/safetensors';
import { INDEX_FILE, shardName, writeShardIndex } from '../io/shard-index';

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

describe('checkpoint errors and warnings, by file', () => {
  const raw = { ...TINY_LLAMA_CONFIG, vocab_size: 256 };
  const host = randomHostWeights(parseConfig(raw), 4);
  const names = [...host.keys()].sort();
  const entry = (n: string): TensorEntry => ({ dtype: 'F16', shape: host.get(n)!.shape, data: host.get(n)!.data });
  const [S1, S2] = [shardName(1, 2), shardName(2, 2)];
  const half = names.length >> 1;

  /** A two-shard checkpoint; `edit` may change the tensors of each shard and the index's weight map. */
  function sharded(
    edit: (shards: Map<string, Record<string, TensorEntry>>, map: Map<string, string>) => void = () => {},
  ) {
    const shards = new Map<string, Record<string, TensorEntry>>([
      [S1, Object.fromEntries(names.slice(0, half).map((n) => [n, entry(n)]))],
      [S2, Object.fromEntries(names.slice(half).map((n) => [n, entry(n)]))],
    ]);
    const map = new Map(names.map((n, i) => [n, i < half ? S1 : S2]));
    edit(shards, map);
    const files = new Map<string, Uint8Array>([[INDEX_FILE, writeShardIndex(map, 0)]]);
    for (const [name, tensors] of shards) files.set(name, writeSafetensors(tensors));
    return files;
  }
  const load = (files: Map<string, Uint8Array>, config: unknown = raw, tok: unknown = tokenizer) => {
    const gathered = gatherWeightFiles((n) => files.get(n))!;
    return loadCheckpoint({ config, ...gathered, tokenizer: tok });
  };
  /** The error `fn` throws, checked to be of `type`. */
  function error(fn: () => unknown, type: new (...a: never[]) => Error): Error {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(type);
      return e as Error;
    }
    throw new Error('nothing was thrown');
  }

  it('loads the two shards, warning only that total_size is off', () => {
    const ck = load(sharded());
    expect(ck.weights.size).toBe(names.length);
    expect(ck.warnings).toEqual([
      expect.stringMatching(
        /^model\.safetensors\.index\.json: metadata\.total_size is 0 bytes but the shards hold \d+ bytes/,
      ),
    ]);
  });

  it('refuses an index naming a missing shard, naming it', () => {
    const files = sharded();
    files.delete(S2);
    expect(error(() => load(files), CheckpointError).message).toBe(
      `model.safetensors.index.json names ${S2}, which is missing`,
    );
  });

  it('ignores, with a warning, a tensor a shard holds that the index does not list', () => {
    const ck = load(
      sharded((shards) => {
        shards.get(S2)!['model.extra.weight'] = { dtype: 'F32', shape: [2], data: new Float32Array(2) };
      }),
    );
    expect(ck.ignored).toEqual(['model.extra.weight']);
    expect(ck.warnings).toContain(
      `${S2}: tensor "model.extra.weight" is not listed in model.safetensors.index.json; it is ignored`,
    );
    expect(ck.weights.has('model.extra.weight')).toBe(false);
  });

  it('refuses a tensor held by two shards, naming both', () => {
    const n = names[0];
    const e = error(() => load(sharded((shards) => (shards.get(S2)![n] = entry(n)))), CheckpointError);
    expect(e.message).toBe(`${S2}: tensor "${n}" is also in ${S1}; which one is meant?`);
  });

  it('refuses a tensor that is not in the shard the index says', () => {
    const n = names[0];
    const e = error(
      () =>
        load(
          sharded((shards, map) => {
            delete shards.get(S1)![n];
            shards.get(S2)![n] = entry(n);
            map.set(n, S1);
          }),
        ),
      CheckpointError,
    );
    expect(e.message).toBe(
      `${S1}: model.safetensors.index.json puts tensor "${n}" here, but the file does not hold it (${S2} does)`,
    );
  });

  it('refuses an index that lists a tensor twice', () => {
    const files = sharded();
    const text = new TextDecoder().decode(files.get(INDEX_FILE)!);
    files.set(
      INDEX_FILE,
      new TextEncoder().encode(text.replace('"weight_map": {', `"weight_map": {"${names[0]}": "${S2}",`)),
    );
    const e = error(() => load(files), SafetensorsError);
    expect(e.message).toBe(`model.safetensors.index.json: "weight_map" names "${names[0]}" more than once`);
  });

  it('refuses a header whose dtype does not match its byte range, naming the file and the tensor', () => {
    const n = names[names.length - 1];
    const files = sharded();
    // The shard's header says F16 for a tensor; make it say F32 with the same offsets.
    const bytes = files.get(S2)!.slice();
    const text = new TextDecoder().decode(bytes);
    const at = text.indexOf(`"${n}":{"dtype":"F16"`) + `"${n}":{"dtype":"`.length;
    bytes.set(new TextEncoder().encode('F32'), at);
    files.set(S2, bytes);
    const e = error(() => load(files), SafetensorsError);
    expect(e.message).toMatch(
      new RegExp(
        `^${S2}: tensor "${n.replace(/\./g, '\\.')}": F32 shape \\[\\d+(, \\d+)*\\] needs \\d+ bytes but data_offsets span \\d+$`,
      ),
    );
  });

  it('refuses a tokenizer larger than the embedding, naming both files', () => {
    const small = { ...raw, vocab_size: 200 };
    const weights = serializeWeights(randomHostWeights(parseConfig(small), 1));
    const e = error(() => loadCheckpoint({ config: small, weights, tokenizer }), CheckpointError);
    expect(e.message).toBe("tokenizer.json has 256 tokens but config.json's vocab_size is 200");
  });

  it('names tokenizer.json in a TokenizerError', () => {
    const bad = { ...(tokenizer as Record<string, unknown>), added_tokens: 'none' };
    expect(error(() => load(sharded(), raw, bad), TokenizerError).message).toBe(
      'tokenizer.json: added_tokens must be an array',
    );
  });

  it('refuses a config claiming far more blocks than the files hold tensors, at once', () => {
    const e = error(() => load(sharded(), { ...raw, num_hidden_layers: 1_000_000 }), CheckpointError);
    expect(e.message).toBe(
      `model.safetensors.index.json: config.json has 1000000 blocks but the weights hold only ${names.length} tensors`,
    );
  });

  it('loads NaN and infinite weights with a warning naming the file, the tensor and the counts', () => {
    const n = names[1];
    const ck = load(
      sharded((shards) => {
        const t = entry(n);
        const data = t.data.slice() as Float32Array;
        data.set([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN]);
        shards.get(S1)![n] = { ...t, data };
      }),
    );
    expect(ck.warnings).toContain(
      `${S1}: tensor "${n}" holds 2 NaN, 1 +Inf, 1 -Inf among its ${host.get(n)!.data.length} values; what is computed through it may be NaN`,
    );
    expect(Number.isNaN(ck.weights.get(n)!.data[0])).toBe(true);
  });
});
