// Every family and layout the loader reads, written by the test's own writer in F32, F16 and BF16,
// in one file and in shards: the checkpoint loads, and an export (dense, and with unstructured
// masks) reloads to the same tensors bit for bit, stored as the source stored them.
import { describe, expect, it } from 'vitest';
import { exportCheckpoint } from './checkpoint-export';
import { readSafetensorsHeader, tensorByteSize, writeSafetensors, type TensorEntry } from '../io/safetensors';
import { INDEX_FILE, parseShardIndex, shardName, writeShardIndex } from '../io/shard-index';
import { gatherWeightFiles, loadCheckpoint, WEIGHTS_FILE, type Checkpoint, type FloatDType } from '../model/checkpoint';
import { parseConfig } from '../model/config';
import { linearSpecs } from '../model/schema';
import {
  randomArray,
  randomHostWeights,
  TINY_GPT2_CONFIG,
  TINY_LLAMA_CONFIG,
  TINY_MISTRAL_CONFIG,
  TINY_QWEN2_CONFIG,
  TINY_VIT_CONFIG,
} from '../model/tiny-models';
import { byteLevelTokenizerJson } from '../model/tokenizer';

const TOKENIZER = byteLevelTokenizerJson(); // 256 tokens: the text models' vocab_size is 256

interface Family {
  name: string;
  raw: Record<string, unknown>;
  /** The tensor's name in the file, from its canonical name. */
  fileName?: (canonical: string) => string;
  /** Extra tensors the files hold that the architecture does not use. */
  buffers?: (raw: Record<string, unknown>) => Record<string, TensorEntry>;
}

const FAMILIES: Family[] = [
  { name: 'GPT-2 (transformer. prefix)', raw: { ...TINY_GPT2_CONFIG, vocab_size: 256 } },
  {
    name: 'GPT-2 (no prefix, causal-mask buffers)',
    raw: { ...TINY_GPT2_CONFIG, vocab_size: 256 },
    fileName: (n) => n.replace(/^transformer\./, ''),
    buffers: (raw) => {
      const out: Record<string, TensorEntry> = {};
      const p = raw.n_positions as number;
      for (let l = 0; l < (raw.n_layer as number); l++) {
        out[`h.${l}.attn.bias`] = { dtype: 'F32', shape: [1, 1, p, p], data: new Float32Array(p * p).fill(1) };
        out[`h.${l}.attn.masked_bias`] = { dtype: 'F32', shape: [], data: new Float32Array([-1e4]) };
      }
      return out;
    },
  },
  { name: 'Llama (untied)', raw: { ...TINY_LLAMA_CONFIG, vocab_size: 256 } },
  { name: 'Qwen2 (tied, q/k/v bias)', raw: { ...TINY_QWEN2_CONFIG, vocab_size: 256 } },
  { name: 'Mistral', raw: { ...TINY_MISTRAL_CONFIG, vocab_size: 256 } },
  { name: 'ViT', raw: { ...TINY_VIT_CONFIG } },
];

const DTYPES: FloatDType[] = ['F32', 'F16', 'BF16'];
const TORCH: Record<string, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

type Files = Map<string, Uint8Array>;

/** A source checkpoint directory: config.json's object, the weight files, and the tokenizer. */
function writeSource(family: Family, dtype: FloatDType, sharded: boolean, seed: number) {
  // BF16 sources leave torch_dtype out, so the export has to set it; the others state it.
  const raw: Record<string, unknown> = { ...family.raw };
  if (dtype !== 'BF16') raw.torch_dtype = TORCH[dtype];
  const config = parseConfig(raw);
  const entries: Record<string, TensorEntry> = { ...family.buffers?.(raw) };
  for (const [name, t] of randomHostWeights(config, seed)) {
    entries[family.fileName?.(name) ?? name] = { dtype, shape: t.shape, data: t.data };
  }
  const files: Files = new Map();
  if (!sharded) files.set(WEIGHTS_FILE, writeSafetensors(entries, { format: 'pt' }));
  else {
    // Three shards, tensors dealt out in name order as transformers fills them.
    const names = Object.keys(entries).sort();
    const n = 3;
    const weightMap = new Map<string, string>();
    let total = 0;
    for (let s = 0; s < n; s++) {
      const part = names.slice(Math.floor((s * names.length) / n), Math.floor(((s + 1) * names.length) / n));
      const shard = shardName(s + 1, n);
      const group: Record<string, TensorEntry> = {};
      for (const name of part) {
        group[name] = entries[name];
        weightMap.set(name, shard);
        total += tensorByteSize(entries[name].dtype, entries[name].shape);
      }
      files.set(shard, writeSafetensors(group, { format: 'pt' }));
    }
    files.set(INDEX_FILE, writeShardIndex(weightMap, total));
  }
  const text = config.kind !== 'vit';
  return { raw, files, tokenizer: text ? TOKENIZER : undefined };
}

/** Loads a directory the way the CLI and the page do: gatherWeightFiles over its files. */
function load(configJson: unknown, files: Files, tokenizer: unknown): Checkpoint {
  const gathered = gatherWeightFiles((name) => files.get(name));
  if (!gathered) throw new Error('no weight files');
  return loadCheckpoint({ config: configJson, ...gathered, tokenizer });
}

const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Index of the first element whose bits differ, or -1 (NaN payloads and -0 count). */
function firstBitDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const x = bitsOf(a);
  const y = bitsOf(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

/** Each tensor's dtype and raw bytes in a directory's weight files, by name in the file. */
function storedTensors(files: Files): Map<string, { dtype: string; shard: string; bytes: Uint8Array }> {
  const out = new Map<string, { dtype: string; shard: string; bytes: Uint8Array }>();
  for (const [file, bytes] of files) {
    if (!file.endsWith('.safetensors') || file === 'masks.safetensors') continue;
    const header = readSafetensorsHeader(bytes);
    for (const t of header.tensors) {
      const at = header.dataStart + t.begin;
      out.set(t.name, { dtype: t.dtype, shard: file, bytes: bytes.subarray(at, at + t.end - t.begin) });
    }
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** About 60% of each prunable weight kept, at random. */
function randomMasks(ck: Checkpoint, seed: number): Map<string, Uint8Array> {
  const masks = new Map<string, Uint8Array>();
  linearSpecs(ck.config)
    .filter((s) => s.prunable)
    .forEach((s, i) => {
      const r = randomArray(ck.weights.get(s.weight)!.data.length, seed + i);
      masks.set(
        s.weight,
        Uint8Array.from(r, (v) => (v > -0.2 ? 1 : 0)),
      );
    });
  return masks;
}

describe.each(FAMILIES)('$name', (family) => {
  describe.each(DTYPES)('%s', (dtype) => {
    describe.each([false, true])('sharded: %s', (sharded) => {
      const seed = 7 + FAMILIES.indexOf(family) * 10 + DTYPES.indexOf(dtype);
      const source = writeSource(family, dtype, sharded, seed);
      const ck = load(source.raw, source.files, source.tokenizer);
      const sourceStored = storedTensors(source.files);

      it('loads every weight as stored, the buffers ignored, without warnings', () => {
        expect(ck.warnings).toEqual([]);
        const buffers = Object.keys(family.buffers?.(source.raw) ?? {});
        expect(ck.ignored.sort()).toEqual(buffers.sort());
        expect(ck.weights.size + buffers.length).toBe(sourceStored.size);
        for (const [name, t] of ck.weights) {
          const inFile = ck.storage.fileNames.get(name)!;
          expect(inFile).toBe(family.fileName?.(name) ?? name);
          expect(ck.storage.dtypes.get(name)).toBe(dtype);
          expect(ck.storage.shards?.get(name) ?? WEIGHTS_FILE).toBe(sourceStored.get(inFile)!.shard);
          expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
        }
      });

      for (const pruned of [false, true]) {
        it(`exports${pruned ? ' with unstructured masks' : ''} and reloads bit for bit, stored alike`, () => {
          const masks = pruned ? randomMasks(ck, seed * 31) : null;
          const out = exportCheckpoint({
            config: ck.config,
            weights: ck.weights,
            masks,
            source: ck,
            extraFiles: source.tokenizer
              ? { 'tokenizer.json': new TextEncoder().encode(JSON.stringify(source.tokenizer)) }
              : {},
          });
          const raw = JSON.parse(new TextDecoder().decode(out.get('config.json')!));
          // The config is the source's, torch_dtype set to the weights' dtype (BF16 sources lack it).
          expect(raw).toEqual({ ...source.raw, torch_dtype: TORCH[dtype] });

          // The same weight files, tensor names, dtypes and shards.
          const fileList = (m: Files) =>
            [...m.keys()].filter((f) => f === INDEX_FILE || (f.endsWith('.safetensors') && f !== 'masks.safetensors'));
          expect(fileList(out).sort()).toEqual(fileList(source.files).sort());
          const stored = storedTensors(out);
          const buffers = new Set(ck.ignored);
          expect([...stored.keys()].sort()).toEqual([...sourceStored.keys()].filter((n) => !buffers.has(n)).sort());
          for (const [name, t] of stored) {
            const src = sourceStored.get(name)!;
            expect(t.dtype, name).toBe(src.dtype);
            expect(t.shard, name).toBe(src.shard);
            if (!pruned) expect(sameBytes(t.bytes, src.bytes), name).toBe(true);
          }
          if (sharded) {
            const index = parseShardIndex(JSON.parse(new TextDecoder().decode(out.get(INDEX_FILE)!)));
            expect(index.warnings).toEqual([]);
            expect(index.weightMap).toEqual(new Map([...stored].map(([n, t]) => [n, t.shard])));
            const bytes = [...stored.values()].reduce((a, t) => a + t.bytes.length, 0);
            expect(index.totalSize).toBe(bytes);
          }

          // masks.safetensors names each prunable matrix as the weight file does.
          const maskNames = readSafetensorsHeader(out.get('masks.safetensors')!).tensors.map((t) => t.name);
          const prunable = linearSpecs(ck.config).filter((sp) => sp.prunable);
          expect(maskNames.sort()).toEqual(prunable.map((sp) => ck.storage.fileNames.get(sp.weight)!).sort());

          // Reloaded: the source's values where kept, +0 where a mask removed.
          const back = load(raw, out, source.tokenizer);
          expect(back.warnings).toEqual([]);
          expect([...back.weights.keys()].sort()).toEqual([...ck.weights.keys()].sort());
          for (const [name, t] of ck.weights) {
            const m = masks?.get(name);
            const want = m ? t.data.map((v, i) => (m[i] ? v : 0)) : t.data;
            expect(firstBitDiff(back.weights.get(name)!.data, want), name).toBe(-1);
            expect(back.storage.dtypes.get(name)).toBe(dtype);
            expect(back.storage.fileNames.get(name)).toBe(ck.storage.fileNames.get(name));
          }
        });
      }
    });
  });
});

describe('export details', () => {
  const u16 = (bytes: Uint8Array) =>
    Array.from({ length: bytes.length / 2 }, (_, i) => bytes[2 * i] | (bytes[2 * i + 1] << 8));

  it('rounds changed values to BF16 to nearest, ties to even, keeping NaN and Inf', () => {
    const family = FAMILIES[2]; // Llama
    const source = writeSource(family, 'BF16', false, 3);
    const ck = load(source.raw, source.files, source.tokenizer);
    const name = 'model.layers.0.self_attn.q_proj.weight';
    // float32 bits → the bf16 bits round-to-nearest-even gives, worked out by hand.
    const cases: [number, number][] = [
      [0x3f800000, 0x3f80], // 1: exact
      [0x3f807fff, 0x3f80], // just below the midpoint: down
      [0x3f808000, 0x3f80], // tie, even below: down
      [0x3f808001, 0x3f81], // just above the midpoint: up
      [0x3f818000, 0x3f82], // tie, odd below: up to even
      [0xbf818000, 0xbf82], // the same, negative
      [0xbf80c000, 0xbf81], // above the midpoint, negative
      [0x3f7fffff, 0x3f80], // carry into the exponent
      [0x7f7f7fff, 0x7f7f], // large, below the midpoint
      [0x7f7fffff, 0x7f80], // float32 max: rounds to +Inf
      [0xff7fffff, 0xff80], // -max: -Inf
      [0x7f800000, 0x7f80], // +Inf
      [0xff800000, 0xff80], // -Inf
      [0x7fc00000, 0x7fc0], // quiet NaN
      [0xffc00000, 0xffc0], // negative quiet NaN
      [0x00008000, 0x0000], // subnormal tie, even below: +0
      [0x00018000, 0x0002], // subnormal tie, odd below: up
      [0x80008001, 0x8001], // negative subnormal above the midpoint
      [0x007fffff, 0x0080], // largest f32 subnormal rounds up to the smallest normal
      [0x80000000, 0x8000], // -0
    ];
    const t = ck.weights.get(name)!;
    const data = t.data.slice();
    const bits = new Uint32Array(data.buffer);
    cases.forEach(([f32], i) => {
      bits[i] = f32;
    });
    bits[cases.length] = 0x7f800001; // a NaN whose payload is only in the low bits must not become Inf
    const out = exportCheckpoint({
      config: ck.config,
      weights: ck.weights,
      replaced: new Map([[name, { shape: t.shape, data }]]),
      source: ck,
    });
    const stored = storedTensors(out).get(name)!;
    expect(stored.dtype).toBe('BF16');
    const got = u16(stored.bytes);
    expect(got.slice(0, cases.length).map((b) => b.toString(16))).toEqual(cases.map(([, b]) => b.toString(16)));
    const lowNan = got[cases.length];
    expect((lowNan & 0x7f80) === 0x7f80 && (lowNan & 0x7f) !== 0, lowNan.toString(16)).toBe(true);
    // Everything else is the source's bf16 value, bit for bit.
    const src = u16(storedTensors(source.files).get(name)!.bytes);
    expect(got.slice(cases.length + 1)).toEqual(src.slice(cases.length + 1));

    // The NaN and Inf come back with a warning naming the file and the tensor.
    const back = load(JSON.parse(new TextDecoder().decode(out.get('config.json')!)), out, source.tokenizer);
    expect(back.warnings).toHaveLength(1);
    expect(back.warnings[0]).toMatch(
      /^model\.safetensors: tensor "model\.layers\.0\.self_attn\.q_proj\.weight" holds 3 NaN, 2 \+Inf, 2 -Inf/,
    );
  });

  it('leaves torch_dtype out for an F32 source without it, keeps it and "dtype" when given', () => {
    const family = FAMILIES[4]; // Mistral
    const source = writeSource(family, 'F32', false, 5);
    const rawOf = (files: Files) => JSON.parse(new TextDecoder().decode(files.get('config.json')!));
    const bare = { ...source.raw };
    delete bare.torch_dtype;
    const ck = load(bare, source.files, source.tokenizer);
    expect(rawOf(exportCheckpoint({ config: ck.config, weights: ck.weights, source: ck }))).toEqual(bare);
    const both = { ...source.raw, dtype: 'float32' };
    const ck2 = load(both, source.files, source.tokenizer);
    expect(rawOf(exportCheckpoint({ config: ck2.config, weights: ck2.weights, source: ck2 }))).toEqual(both);
    // Without a source the weights are F32: a bfloat16 torch_dtype is corrected.
    const ck3 = load({ ...source.raw, torch_dtype: 'bfloat16' }, source.files, source.tokenizer);
    expect(rawOf(exportCheckpoint({ config: ck3.config, weights: ck3.weights })).torch_dtype).toBe('float32');
  });

  it("names the mixed-dtype source's main dtype and keeps each tensor's own", () => {
    const raw = { ...TINY_LLAMA_CONFIG, vocab_size: 256 };
    const config = parseConfig(raw);
    const entries: Record<string, TensorEntry> = {};
    for (const [name, t] of randomHostWeights(config, 9)) {
      // Norms in F32, as mixed-precision checkpoints keep them; the rest F16.
      entries[name] = { dtype: name.endsWith('norm.weight') ? 'F32' : 'F16', shape: t.shape, data: t.data };
    }
    const files: Files = new Map([[WEIGHTS_FILE, writeSafetensors(entries)]]);
    const ck = load(raw, files, TOKENIZER);
    const out = exportCheckpoint({ config: ck.config, weights: ck.weights, source: ck });
    expect(JSON.parse(new TextDecoder().decode(out.get('config.json')!)).torch_dtype).toBe('float16');
    const stored = storedTensors(out);
    for (const [name, e] of Object.entries(entries)) expect(stored.get(name)!.dtype, name).toBe(e.dtype);
  });

  it("records each family's architecture in recipe.json", () => {
    for (const family of FAMILIES) {
      const source = writeSource(family, 'F32', false, 1);
      const ck = load(source.raw, source.files, source.tokenizer);
      const recipe = JSON.parse(
        new TextDecoder().decode(exportCheckpoint({ config: ck.config, weights: ck.weights }).get('recipe.json')!),
      );
      expect(recipe.source.architecture, family.name).toBe((source.raw.architectures as string[])[0]);
    }
  });
});

describe('sharded export after removing blocks', () => {
  it('renumbers the shards left when one is emptied, with a valid index', () => {
    const raw = { ...TINY_GPT2_CONFIG, vocab_size: 256, n_layer: 3, torch_dtype: 'float16' };
    const config = parseConfig(raw);
    const host = randomHostWeights(config, 4);
    // Shard 1 holds block 1 and nothing else; shard 2 the rest.
    const [a, b] = [shardName(1, 2), shardName(2, 2)];
    const groups: Record<string, Record<string, TensorEntry>> = { [a]: {}, [b]: {} };
    const weightMap = new Map<string, string>();
    for (const [name, t] of host) {
      const shard = name.startsWith('transformer.h.1.') ? a : b;
      groups[shard][name] = { dtype: 'F16', shape: t.shape, data: t.data };
      weightMap.set(name, shard);
    }
    const files: Files = new Map([[INDEX_FILE, writeShardIndex(weightMap, 0)]]);
    for (const [s, g] of Object.entries(groups)) files.set(s, writeSafetensors(g));
    const ck = load(raw, files, TOKENIZER);

    const out = exportCheckpoint({
      config: ck.config,
      weights: ck.weights,
      source: ck,
      structure: { attention: [true, false, true], mlp: [true, false, true] },
    });
    const only = shardName(1, 1);
    expect([...out.keys()].filter((f) => f.startsWith('model'))).toEqual([INDEX_FILE, only]);
    const index = parseShardIndex(JSON.parse(new TextDecoder().decode(out.get(INDEX_FILE)!)));
    expect(new Set(index.weightMap.values())).toEqual(new Set([only]));
    const stored = storedTensors(out);
    expect(index.weightMap).toEqual(new Map([...stored.keys()].map((n) => [n, only])));
    expect(index.totalSize).toBe([...stored.values()].reduce((s, t) => s + t.bytes.length, 0));

    const back = load(JSON.parse(new TextDecoder().decode(out.get('config.json')!)), out, TOKENIZER);
    expect(back.warnings).toEqual([]);
    expect(back.config.kind === 'gpt2' && back.config.nLayer).toBe(2);
    // Source block 2 is block 1 now, bit for bit, still F16.
    const name = (l: number) => `transformer.h.${l}.mlp.c_fc.weight`;
    expect(firstBitDiff(back.weights.get(name(1))!.data, ck.weights.get(name(2))!.data)).toBe(-1);
    expect(back.storage.dtypes.get(name(1))).toBe('F16');
  });
});
