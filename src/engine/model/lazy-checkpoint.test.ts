// The lazy checkpoint against loadCheckpoint: the same weights bit for bit, the same metadata, the
// same refusals with the same messages — and reading a block reads that block's bytes and no others.
import { describe, expect, it } from 'vitest';
import { gatherWeightFiles, loadCheckpoint, WEIGHTS_FILE, type FloatDType, type HostTensor } from './checkpoint';
import { parseConfig } from './config';
import { gatherWeightSources, openCheckpoint, type LazyCheckpoint } from './lazy-checkpoint';
import {
  randomHostWeights,
  TINY_GPT2_CONFIG,
  TINY_LLAMA_CONFIG,
  TINY_QWEN2_CONFIG,
  TINY_VIT_CONFIG,
} from './tiny-models';
import { byteLevelTokenizerJson } from './tokenizer';
import { blobSource, bytesSource, type ByteSource } from '../io/byte-source';
import { readSafetensorsHeader, tensorByteSize, writeSafetensors, type TensorEntry } from '../io/safetensors';
import { INDEX_FILE, shardName, writeShardIndex } from '../io/shard-index';

const TOKENIZER = byteLevelTokenizerJson(); // 256 tokens
type Files = Map<string, Uint8Array>;

interface Case {
  name: string;
  raw: Record<string, unknown>;
  dtype: FloatDType;
  /** Number of shards; 0: one model.safetensors. */
  shards: number;
  fileName?: (canonical: string) => string;
  buffers?: Record<string, TensorEntry>;
}

const CASES: Case[] = [
  { name: 'GPT-2, F32, one file', raw: { ...TINY_GPT2_CONFIG, vocab_size: 256 }, dtype: 'F32', shards: 0 },
  {
    name: 'GPT-2 without "transformer.", causal-mask buffers, F16, 2 shards',
    raw: { ...TINY_GPT2_CONFIG, vocab_size: 256 },
    dtype: 'F16',
    shards: 2,
    fileName: (n) => n.replace(/^transformer\./, ''),
    buffers: {
      'h.0.attn.bias': { dtype: 'F32', shape: [1, 1, 16, 16], data: new Float32Array(256).fill(1) },
      'h.0.attn.masked_bias': { dtype: 'F32', shape: [], data: new Float32Array([-1e4]) },
      'h.1.attn.bias': { dtype: 'F32', shape: [1, 1, 16, 16], data: new Float32Array(256).fill(1) },
    },
  },
  { name: 'Llama, BF16, 3 shards', raw: { ...TINY_LLAMA_CONFIG, vocab_size: 256 }, dtype: 'BF16', shards: 3 },
  { name: 'Llama, F64, one file', raw: { ...TINY_LLAMA_CONFIG, vocab_size: 256 }, dtype: 'F64', shards: 0 },
  { name: 'Qwen2 (tied), F16, one file', raw: { ...TINY_QWEN2_CONFIG, vocab_size: 256 }, dtype: 'F16', shards: 0 },
  { name: 'ViT, F32, one file', raw: { ...TINY_VIT_CONFIG }, dtype: 'F32', shards: 0 },
  { name: 'ViT, BF16, 2 shards', raw: { ...TINY_VIT_CONFIG }, dtype: 'BF16', shards: 2 },
];

/** The checkpoint's weight files, tensors dealt out to shards in name order as transformers does. */
function writeFiles(c: Case, seed: number): Files {
  const entries: Record<string, TensorEntry> = { ...c.buffers };
  for (const [name, t] of randomHostWeights(parseConfig(c.raw), seed))
    entries[c.fileName?.(name) ?? name] = { dtype: c.dtype, shape: t.shape, data: t.data };
  return shard(entries, c.shards);
}

function shard(entries: Record<string, TensorEntry>, n: number): Files {
  if (n === 0) return new Map([[WEIGHTS_FILE, writeSafetensors(entries, { format: 'pt' })]]);
  const names = Object.keys(entries).sort();
  const files: Files = new Map();
  const weightMap = new Map<string, string>();
  let total = 0;
  for (let s = 0; s < n; s++) {
    const part = names.slice(Math.floor((s * names.length) / n), Math.floor(((s + 1) * names.length) / n));
    const file = shardName(s + 1, n);
    for (const name of part) {
      weightMap.set(name, file);
      total += tensorByteSize(entries[name].dtype, entries[name].shape);
    }
    files.set(file, writeSafetensors(Object.fromEntries(part.map((p) => [p, entries[p]])), { format: 'pt' }));
  }
  files.set(INDEX_FILE, writeShardIndex(weightMap, total));
  return files;
}

/** A source per file, each recording the ranges read from it. */
function sources(files: Files, make: (b: Uint8Array) => ByteSource = bytesSource) {
  const reads = new Map<string, [number, number][]>();
  const open = (name: string): ByteSource | undefined => {
    const bytes = files.get(name);
    if (!bytes) return undefined;
    const inner = make(bytes);
    const log: [number, number][] = [];
    reads.set(name, log);
    return {
      size: inner.size,
      read: (offset, length) => {
        log.push([offset, offset + length]);
        return inner.read(offset, length);
      },
    };
  };
  return { open, reads };
}

const eager = (files: Files, config: unknown, tokenizer: unknown) =>
  loadCheckpoint({ config, ...gatherWeightFiles((n) => files.get(n))!, tokenizer });

async function lazy(files: Files, config: unknown, tokenizer: unknown, make?: (b: Uint8Array) => ByteSource) {
  const { open } = sources(files, make);
  return openCheckpoint({ config, ...(await gatherWeightSources(open))!, tokenizer });
}

const bits = (t: HostTensor) => new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);

/** Every weight of a lazy checkpoint, decoded. */
async function allWeights(ck: LazyCheckpoint): Promise<Map<string, HostTensor>> {
  return ck.tensors(ck.shapes.keys());
}

describe.each(CASES)('$name', (c) => {
  const files = writeFiles(c, 11 + CASES.indexOf(c));
  const text = c.raw.model_type !== 'vit';
  const tokenizer = text ? TOKENIZER : undefined;
  const whole = eager(files, c.raw, tokenizer);

  it('gives what loadCheckpoint gives: config, tokenizer, storage, ignored, warnings, weights bit for bit', async () => {
    const ck = await lazy(files, c.raw, tokenizer);
    expect(ck.config).toEqual(whole.config);
    expect(ck.tokenizer?.vocabSize ?? null).toBe(whole.tokenizer?.vocabSize ?? null);
    expect(ck.storage).toEqual(whole.storage);
    expect(ck.ignored).toEqual(whole.ignored);
    expect(ck.ignored.length).toBe(Object.keys(c.buffers ?? {}).length);
    expect([...ck.shapes.keys()]).toEqual([...whole.weights.keys()]);
    for (const [name, t] of whole.weights) {
      const got = await ck.tensor(name);
      expect(got.shape, name).toEqual(t.shape);
      expect(got.data, name).toBeInstanceOf(Float32Array);
      expect(bits(got), name).toEqual(bits(t));
    }
    expect(ck.warnings).toEqual(whole.warnings);
  });

  it('reads the same through Blobs', async () => {
    const ck = await lazy(files, c.raw, tokenizer, (b) => blobSource(new Blob([b as Uint8Array<ArrayBuffer>])));
    for (const [name, t] of await allWeights(ck)) expect(bits(t), name).toEqual(bits(whole.weights.get(name)!));
  });

  it('splits the weights into the blocks and the rest', async () => {
    const ck = await lazy(files, c.raw, tokenizer);
    const layers = (c.raw.n_layer ?? c.raw.num_hidden_layers) as number;
    const seen = ck.outsideNames();
    expect(seen.length).toBeGreaterThan(0);
    for (let l = 0; l < layers; l++) {
      const names = ck.blockNames(l);
      expect(names.length).toBeGreaterThan(3);
      const block = await ck.block(l);
      expect([...block.keys()]).toEqual(names);
      for (const [name, t] of block) expect(bits(t), name).toEqual(bits(whole.weights.get(name)!));
      seen.push(...names);
    }
    expect(seen.sort()).toEqual([...whole.weights.keys()].sort());
    expect(() => ck.blockNames(layers)).toThrow(RangeError);
  });

  it("opens reading only the headers, and reads a block's tensors' bytes and no others", async () => {
    const { open, reads } = sources(files);
    const ck = await openCheckpoint({ config: c.raw, ...(await gatherWeightSources(open))!, tokenizer });
    const headers = new Map(
      [...files].filter(([f]) => f !== INDEX_FILE).map(([f, b]) => [f, readSafetensorsHeader(b)]),
    );
    for (const [file, header] of headers)
      expect(reads.get(file), file).toEqual([
        [0, 8],
        [0, header.dataStart],
      ]);

    const layers = (c.raw.n_layer ?? c.raw.num_hidden_layers) as number;
    for (let l = 0; l < layers; l++) {
      for (const log of reads.values()) log.length = 0;
      await ck.block(l);
      // The ranges of the block's tensors in their files, by the files' own headers.
      const expected = new Map<string, [number, number][]>();
      for (const name of ck.blockNames(l)) {
        const file = ck.storage.shards?.get(name) ?? WEIGHTS_FILE;
        const { dataStart, tensors } = headers.get(file)!;
        const info = tensors.find((t) => t.name === ck.storage.fileNames.get(name))!;
        expected.set(file, [...(expected.get(file) ?? []), [dataStart + info.begin, dataStart + info.end]]);
      }
      for (const [file, log] of reads) {
        if (file === INDEX_FILE) continue;
        const want = (expected.get(file) ?? []).sort((a, b) => a[0] - b[0]);
        expect(
          [...log].sort((a, b) => a[0] - b[0]),
          `block ${l}, ${file}`,
        ).toEqual(want);
        const read = log.reduce((n, [a, b]) => n + b - a, 0);
        expect(read).toBeLessThan(files.get(file)!.length / (c.shards === 0 ? 2 : 1));
      }
      expect(ck.storedBytes(ck.blockNames(l))).toBe([...reads.values()].flat().reduce((n, [a, b]) => n + b - a, 0));
    }
  });
});

describe('the lazy checkpoint refuses what loadCheckpoint refuses, with the same messages', () => {
  const raw = { ...TINY_LLAMA_CONFIG, vocab_size: 256 };
  const host = randomHostWeights(parseConfig(raw), 4);
  const names = [...host.keys()].sort();
  const entry = (n: string): TensorEntry => ({ dtype: 'F16', shape: host.get(n)!.shape, data: host.get(n)!.data });
  const [S1, S2] = [shardName(1, 2), shardName(2, 2)];
  const half = names.length >> 1;

  /** A two-shard checkpoint; `edit` may change the tensors of each shard and the index's weight map. */
  function sharded(
    edit: (shards: Map<string, Record<string, TensorEntry>>, map: Map<string, string>) => void = () => {},
  ): Files {
    const shards = new Map<string, Record<string, TensorEntry>>([
      [S1, Object.fromEntries(names.slice(0, half).map((n) => [n, entry(n)]))],
      [S2, Object.fromEntries(names.slice(half).map((n) => [n, entry(n)]))],
    ]);
    const map = new Map(names.map((n, i) => [n, i < half ? S1 : S2]));
    edit(shards, map);
    const files: Files = new Map([[INDEX_FILE, writeShardIndex(map, 0)]]);
    for (const [name, tensors] of shards) files.set(name, writeSafetensors(tensors));
    return files;
  }

  /** What a load gives: the error's class and message, or the warnings and ignored tensors once
   * every weight is decoded. */
  async function outcome(load: () => Promise<{ warnings: string[]; ignored: string[] }>) {
    try {
      const { warnings, ignored } = await load();
      return { warnings, ignored };
    } catch (e) {
      return { error: (e as Error).constructor.name, message: (e as Error).message };
    }
  }
  async function same(files: Files, config: unknown = raw, tokenizer: unknown = TOKENIZER, noTokenizer = false) {
    if (noTokenizer) tokenizer = undefined;
    const a = await outcome(async () => eager(files, config, tokenizer));
    const b = await outcome(async () => {
      const ck = await lazy(files, config, tokenizer);
      await allWeights(ck);
      return ck;
    });
    expect(b).toEqual(a);
    return a;
  }

  it('a good checkpoint, warning only that total_size is off', async () => {
    const got = await same(sharded());
    expect(got).toEqual({ warnings: [expect.stringMatching(/metadata\.total_size is 0 bytes/)], ignored: [] });
  });

  it('a missing shard', async () => {
    const files = sharded();
    files.delete(S2);
    expect(await same(files)).toEqual({
      error: 'CheckpointError',
      message: `model.safetensors.index.json names ${S2}, which is missing`,
    });
  });

  it('a tensor the index does not list (a warning)', async () => {
    const got = await same(
      sharded((shards) => {
        shards.get(S2)!['model.extra.weight'] = { dtype: 'F32', shape: [2], data: new Float32Array(2) };
      }),
    );
    expect(got.ignored).toEqual(['model.extra.weight']);
  });

  it('a tensor in two shards', async () => {
    const n = names[0];
    expect(await same(sharded((shards) => (shards.get(S2)![n] = entry(n))))).toEqual({
      error: 'CheckpointError',
      message: `${S2}: tensor "${n}" is also in ${S1}; which one is meant?`,
    });
  });

  it('a tensor not in the shard the index says', async () => {
    const n = names[0];
    const got = await same(
      sharded((shards, map) => {
        delete shards.get(S1)![n];
        shards.get(S2)![n] = entry(n);
        map.set(n, S1);
      }),
    );
    expect(got).toMatchObject({ error: 'CheckpointError', message: expect.stringContaining(`(${S2} does)`) });
  });

  it('an index listing a tensor twice', async () => {
    const files = sharded();
    const text = new TextDecoder().decode(files.get(INDEX_FILE)!);
    files.set(
      INDEX_FILE,
      new TextEncoder().encode(text.replace('"weight_map": {', `"weight_map": {"${names[0]}": "${S2}",`)),
    );
    const whole = await outcome(async () => eager(files, raw, TOKENIZER));
    const ranged = await outcome(async () => lazy(files, raw, TOKENIZER));
    expect(ranged).toEqual(whole);
    expect(whole).toMatchObject({ error: 'SafetensorsError', message: expect.stringContaining('more than once') });
  });

  it('a header whose dtype does not match its byte range', async () => {
    const n = names[names.length - 1];
    const files = sharded();
    const bytes = files.get(S2)!.slice();
    const text = new TextDecoder().decode(bytes);
    bytes.set(new TextEncoder().encode('F32'), text.indexOf(`"${n}":{"dtype":"F16"`) + `"${n}":{"dtype":"`.length);
    files.set(S2, bytes);
    expect(await same(files)).toMatchObject({
      error: 'SafetensorsError',
      message: expect.stringMatching(new RegExp(`^${S2}: tensor ".*": F32 shape .* needs \\d+ bytes`)),
    });
  });

  it('a truncated shard', async () => {
    const files = sharded();
    files.set(S1, files.get(S1)!.slice(0, -3));
    expect(await same(files)).toMatchObject({
      error: 'SafetensorsError',
      message: expect.stringMatching(new RegExp(`^${S1}: tensor .* lie outside the data buffer`)),
    });
  });

  it('shapes, blocks and dtypes the config does not imply', async () => {
    expect(await same(sharded(), { ...raw, intermediate_size: 30 })).toMatchObject({
      error: 'CheckpointError',
      message: expect.stringMatching(/has shape \[28,16\] but config\.json implies \[30,16\]/),
    });
    expect(await same(sharded(), { ...raw, num_hidden_layers: 3 })).toMatchObject({
      message: expect.stringMatching(/tensor "model\.layers\.2\.input_layernorm\.weight" is missing/),
    });
    expect(await same(sharded(), { ...raw, num_hidden_layers: 1_000_000 })).toMatchObject({
      message: expect.stringMatching(/config\.json has 1000000 blocks but the weights hold only/),
    });
    const int = sharded((shards) => {
      const { shape, data } = host.get(names[0])!;
      shards.get(S1)![names[0]] = { dtype: 'I32', shape, data: new Int32Array(data.length) };
    });
    expect(await same(int)).toMatchObject({ message: expect.stringMatching(/has dtype I32; weights must be/) });
    expect(await same(sharded(), { architectures: ['PhiForCausalLM'] })).toMatchObject({ error: 'ConfigError' });
  });

  it('a missing or oversized tokenizer', async () => {
    expect(await same(sharded(), raw, TOKENIZER, true)).toEqual({
      error: 'CheckpointError',
      message: 'tokenizer.json is missing; a text model needs it',
    });
    expect(await same(sharded(), { ...raw, vocab_size: 200 })).toMatchObject({ error: 'CheckpointError' });
  });

  it('two weight files without an index', async () => {
    const two = sharded();
    two.delete(INDEX_FILE);
    const weights = new Map([...two].map(([f, b]) => [f, bytesSource(b)]));
    const whole = await outcome(async () => loadCheckpoint({ config: raw, weights: two, tokenizer: TOKENIZER }));
    const ranged = await outcome(() => openCheckpoint({ config: raw, weights, tokenizer: TOKENIZER }));
    expect(ranged).toEqual(whole);
    expect(whole).toMatchObject({ message: expect.stringContaining('one safetensors file, or') });
  });

  it('warns of NaN and infinite values once a weight is decoded, once', async () => {
    const n = names[1];
    const files = sharded((shards) => {
      const t = entry(n);
      const data = t.data.slice() as Float32Array;
      data.set([Number.NaN, Number.POSITIVE_INFINITY]);
      shards.get(S1)![n] = { ...t, data };
    });
    const warning = `${S1}: tensor "${n}" holds 1 NaN, 1 +Inf among its ${host.get(n)!.data.length} values; what is computed through it may be NaN`;
    expect((await same(files)).warnings).toContain(warning);
    const ck = await lazy(files, raw, TOKENIZER);
    expect(ck.warnings).not.toContain(warning);
    await ck.tensor(n);
    await ck.tensor(n);
    expect(ck.warnings.filter((w) => w === warning)).toHaveLength(1);
  });

  it('refuses an unknown weight, and stops when cancelled', async () => {
    const ck = await lazy(sharded(), raw, TOKENIZER);
    await expect(ck.tensor('model.nothing')).rejects.toThrow('the checkpoint has no weight "model.nothing"');
    const controller = new AbortController();
    controller.abort();
    await expect(ck.block(0, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('names the file a failing read came from', async () => {
    const files = sharded();
    const { open } = sources(files);
    const gathered = (await gatherWeightSources(open))!;
    const ck = await openCheckpoint({ config: raw, ...gathered, tokenizer: TOKENIZER });
    const source = (gathered.weights as Map<string, ByteSource>).get(S1)!;
    source.read = async () => {
      throw new Error('gone');
    };
    const first = ck.blockNames(0).find((n) => ck.storage.shards!.get(n) === S1)!;
    await expect(ck.tensor(first)).rejects.toThrow(`${S1}: cannot be read: gone`);
  });
});
