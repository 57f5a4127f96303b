// Property tests of everything that reads a checkpoint's files: random and mutated safetensors
// headers, shard indexes, config.json and tokenizer.json. Whatever the input, a reader either
// succeeds or throws its module's typed error — never a RangeError, TypeError or out-of-memory — and
// never allocates more than the file's size implies (a header claiming a 2^40-element tensor in a
// 100-byte file is refused before anything is allocated). Runs are few, so the file stays quick.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointError, gatherWeightFiles, loadCheckpoint } from '../model/checkpoint';
import { gatherWeightSources, openCheckpoint } from '../model/lazy-checkpoint';
import { bytesSource } from './byte-source';
import { ConfigError, parseConfig } from '../model/config';
import {
  randomHostWeights,
  TINY_GPT2_CONFIG,
  TINY_LLAMA_CONFIG,
  TINY_QWEN2_CONFIG,
  TINY_VIT_CONFIG,
  tinyLlama,
} from '../model/tiny-models';
import { byteLevelTokenizerJson, loadTokenizer, TokenizerError } from '../model/tokenizer';
import {
  readSafetensors,
  readSafetensorsHeader,
  SafetensorsError,
  tensorByteSize,
  writeSafetensors,
  type DType,
  type TensorEntry,
} from './safetensors';
import { INDEX_FILE, parseShardIndex, shardName, writeShardIndex } from './shard-index';

const enc = new TextEncoder();
const DTYPES: DType[] = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'];

// ---------------------------------------------------------------------------------------
// Allocation accounting

class AllocationLimitError extends Error {}

/**
 * Runs `fn` with the typed-array and ArrayBuffer constructors charged against `limit` bytes: an
 * allocation past it throws AllocationLimitError before it happens. (Proxies of the constructors, so
 * `instanceof` still holds for arrays made before or during the run.)
 */
function withAllocationLimit<T>(limit: number, fn: () => T): T {
  const g = globalThis as unknown as Record<string, unknown>;
  const names = [
    'ArrayBuffer',
    'Float64Array',
    'Float32Array',
    'Int32Array',
    'Uint32Array',
    'Uint16Array',
    'Uint8Array',
  ];
  const saved = names.map((n) => g[n]);
  let left = limit;
  names.forEach((name, i) => {
    const Base = saved[i] as { BYTES_PER_ELEMENT?: number } & (new (...a: unknown[]) => object);
    g[name] = new Proxy(Base, {
      construct(target, args) {
        if (typeof args[0] === 'number') {
          left -= args[0] * (Base.BYTES_PER_ELEMENT ?? 1);
          if (left < 0) throw new AllocationLimitError(`new ${name}(${args[0]}) is past the limit of ${limit} bytes`);
        }
        return Reflect.construct(target, args);
      },
    });
  });
  try {
    return fn();
  } finally {
    names.forEach((name, i) => {
      g[name] = saved[i];
    });
  }
}

/** The error `fn` throws (undefined when it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e;
  }
}

/** Asserts that `fn` succeeds or throws one of `types`, and returns what it threw. */
function onlyTyped(fn: () => unknown, ...types: (new (...a: never[]) => Error)[]): unknown {
  const e = thrown(fn);
  if (e !== undefined && !types.some((t) => e instanceof t)) {
    throw new Error(`threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
  return e;
}

/** Every file read gets at most 4 bytes of output per byte of file (I8 decodes to an Int32Array). */
const readLimit = (bytes: Uint8Array) => 4 * bytes.length + 4096;

// ---------------------------------------------------------------------------------------
// Safetensors generators

/** A JSON number as text, including ones JSON.parse reads as Infinity or imprecisely. */
const numberText = fc.oneof(
  fc.nat({ max: 300 }).map(String),
  fc.constantFrom(
    '0',
    '-0',
    '-1',
    '1.5',
    '1e2',
    '4294967296',
    '1099511627776', // 2^40
    '9007199254740991', // 2^53 - 1
    '9007199254740993', // 2^53 + 1: not representable
    '18446744073709551616', // 2^64
    '1e308',
    '1e400', // Infinity
    '-1e400',
  ),
  fc.integer().map(String),
);

/** A JSON value as text: any value fast-check makes, or one of the awkward ones. */
const anyJsonText = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  numberText,
  fc.constantFrom('null', 'true', '""', '[]', '{}', '"\\u0000"', '"__proto__"'),
);

const dtypeText = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...DTYPES).map((d) => JSON.stringify(d)) },
  { weight: 1, arbitrary: fc.constantFrom('"f32"', '"F8_E4M3"', '"U64"', '"F32 "', '""', '"__proto__"', '"toString"') },
  { weight: 1, arbitrary: anyJsonText },
);

const shapeText = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.nat({ max: 6 }).map(String), { maxLength: 4 }).map((a) => `[${a.join(',')}]`) },
  { weight: 2, arbitrary: fc.array(numberText, { maxLength: 5 }).map((a) => `[${a.join(',')}]`) },
  { weight: 1, arbitrary: anyJsonText },
);

const offsetsText = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.nat({ max: 300 }), fc.nat({ max: 300 })).map(([a, b]) => `[${a},${b}]`) },
  { weight: 2, arbitrary: fc.array(numberText, { maxLength: 3 }).map((a) => `[${a.join(',')}]`) },
  { weight: 1, arbitrary: anyJsonText },
);

/** A small pool of names, so duplicates happen; __metadata__ and __proto__ among them. */
const nameText = fc
  .oneof(fc.constantFrom('w', 'b', 'x.weight', '0', '', '__metadata__', '__proto__', 'constructor'), fc.string())
  .map((s) => JSON.stringify(s));

const entryText = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(dtypeText, shapeText, offsetsText, fc.option(anyJsonText, { freq: 8 }), fc.boolean())
      .map(([d, s, o, extra, reorder]) => {
        const fields = [`"dtype":${d}`, `"shape":${s}`, `"data_offsets":${o}`];
        if (extra !== null) fields.push(`"extra":${extra}`);
        if (reorder) fields.reverse();
        return `{${fields.join(',')}}`;
      }),
  },
  // A field left out or given twice.
  {
    weight: 1,
    arbitrary: fc
      .tuple(dtypeText, shapeText, offsetsText, fc.nat({ max: 5 }))
      .map(([d, s, o, k]) =>
        k < 3
          ? `{${[`"dtype":${d}`, `"shape":${s}`, `"data_offsets":${o}`].filter((_, i) => i !== k).join(',')}}`
          : `{"dtype":${d},"shape":${s},"data_offsets":${o},"dtype":"F32"}`,
      ),
  },
  { weight: 1, arbitrary: anyJsonText },
);

const metadataText = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 })).map((m) => JSON.stringify(m)),
  anyJsonText,
);

/** Header text: tensor entries (maybe with metadata) as an object, or something else entirely. */
const headerText = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.array(fc.tuple(nameText, entryText), { maxLength: 5 }), fc.option(metadataText, { freq: 3 }))
      .map(([entries, meta]) => {
        const parts = entries.map(([n, e]) => `${n}:${e}`);
        if (meta !== null) parts.push(`"__metadata__":${meta}`);
        return `{${parts.join(',')}}`;
      }),
  },
  { weight: 1, arbitrary: anyJsonText },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);

/** The 8-byte length field: usually right, sometimes anything. */
function file(header: string, data: Uint8Array, length?: bigint, pad = 0): Uint8Array {
  const json = enc.encode(header + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const safetensorsFile = fc
  .tuple(
    headerText,
    fc.uint8Array({ maxLength: 300 }),
    fc.option(fc.oneof(fc.bigInt({ min: 0n, max: 400n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })), {
      freq: 6,
    }),
    fc.nat({ max: 7 }),
  )
  .map(([header, data, length, pad]) => file(header, data, length ?? undefined, pad));

/** Reads `bytes` under the allocation limit; on success, checks what the header promises. */
function checkRead(bytes: Uint8Array): void {
  const e = onlyTyped(() => withAllocationLimit(readLimit(bytes), () => readSafetensors(bytes)), SafetensorsError);
  if (e !== undefined) {
    expect((e as Error).message.length).toBeGreaterThan(0);
    return;
  }
  const header = readSafetensorsHeader(bytes);
  const dataLength = bytes.length - header.dataStart;
  let total = 0;
  for (const t of header.tensors) {
    expect(t.end).toBeLessThanOrEqual(dataLength);
    expect(tensorByteSize(t.dtype, t.shape)).toBe(t.end - t.begin);
    total += t.end - t.begin;
  }
  expect(total).toBeLessThanOrEqual(dataLength); // no overlaps: the ranges fit side by side
}

/** Random well-formed tensors, of every dtype, with values that fit it. */
const tensors = fc
  .uniqueArray(
    fc.tuple(
      fc.string({ maxLength: 6 }).filter((n) => n !== '__metadata__'),
      fc.constantFrom(...DTYPES),
      fc.array(fc.nat({ max: 3 }), { maxLength: 3 }),
      fc.nat(),
    ),
    { selector: ([n]) => n, maxLength: 5 },
  )
  .map((list) => {
    const out = new Map<string, TensorEntry>();
    for (const [name, dtype, shape, seed] of list) {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = (i: number) => ((seed + i * 2654435761) >>> 0) % 200;
      const data =
        dtype === 'U8' || dtype === 'BOOL'
          ? Uint8Array.from({ length: n }, (_, i) => (dtype === 'BOOL' ? v(i) & 1 : v(i)))
          : dtype.startsWith('I')
            ? Int32Array.from({ length: n }, (_, i) => v(i) - 100)
            : Float32Array.from({ length: n }, (_, i) => (v(i) - 100) / 8);
      out.set(name, { dtype, shape, data });
    }
    return out;
  });

/** A mutation of a valid file: bytes overwritten, cut, inserted or removed. */
const mutation = fc.oneof(
  fc.tuple(fc.constant('set' as const), fc.nat(), fc.nat({ max: 255 })),
  fc.tuple(fc.constant('cut' as const), fc.nat(), fc.constant(0)),
  fc.tuple(fc.constant('insert' as const), fc.nat(), fc.constantFrom(...enc.encode('0123456789[]{},:"-.e \\'))),
  fc.tuple(fc.constant('remove' as const), fc.nat(), fc.constant(0)),
);

function mutate(bytes: Uint8Array, ops: [string, number, number][]): Uint8Array {
  let out = bytes;
  for (const [op, at, value] of ops) {
    if (out.length === 0) break;
    const i = at % out.length;
    if (op === 'set') {
      out = out.slice();
      out[i] = value;
    } else if (op === 'cut') out = out.slice(0, i);
    else if (op === 'insert') out = Uint8Array.of(...out.subarray(0, i), value, ...out.subarray(i));
    else out = Uint8Array.of(...out.subarray(0, i), ...out.subarray(i + 1));
  }
  return out;
}

/** Nesting `depth` deep, as text (arrays or objects). */
const nested = (depth: number, objects: boolean) =>
  objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('safetensors reader, fuzzed', () => {
  it('counts allocations (the accounting itself works)', () => {
    expect(() => withAllocationLimit(100, () => new Float32Array(1000))).toThrow(AllocationLimitError);
    expect(withAllocationLimit(100, () => new Float32Array(2))).toBeInstanceOf(Float32Array);
    expect(new Float32Array(1)).toBeInstanceOf(Float32Array);
  });

  it('random headers: only SafetensorsError, allocations bounded by the file', () => {
    fc.assert(fc.property(safetensorsFile, checkRead), { numRuns: 300 });
  });

  it('random bytes: only SafetensorsError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), checkRead), { numRuns: 200 });
  });

  it('well-formed files round-trip', () => {
    fc.assert(
      fc.property(tensors, (t) => {
        const back = readSafetensors(writeSafetensors(t, { format: 'pt' }));
        expect(back.tensors).toEqual(t);
      }),
      { numRuns: 100 },
    );
  });

  it('mutated well-formed files: only SafetensorsError, allocations bounded by the file', () => {
    fc.assert(
      fc.property(tensors, fc.array(mutation, { minLength: 1, maxLength: 4 }), (t, ops) => {
        checkRead(mutate(writeSafetensors(t), ops));
      }),
      { numRuns: 300 },
    );
  });

  it('huge shapes and offsets in a small file are refused before anything is allocated', () => {
    const huge = fc.constantFrom(2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53 - 1);
    fc.assert(
      fc.property(fc.constantFrom(...DTYPES), huge, fc.nat({ max: 4 }), fc.nat({ max: 100 }), (dtype, n, k, len) => {
        const shape = [n, ...Array.from({ length: k }, () => 1)];
        const size = n * 2; // any span the claimed size is not, and one it is
        for (const offsets of [
          [0, size],
          [0, tensorByteSize(dtype, shape)],
          [0, len],
        ]) {
          const bytes = file(JSON.stringify({ t: { dtype, shape, data_offsets: offsets } }), new Uint8Array(len));
          const e = onlyTyped(() => withAllocationLimit(1024, () => readSafetensors(bytes)), SafetensorsError);
          expect(e).toBeInstanceOf(SafetensorsError);
          expect((e as Error).message).toMatch(/tensor "t"/);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('deep nesting anywhere in the header: SafetensorsError', () => {
    const place = fc.constantFrom('header', 'entry', 'dtype', 'shape', 'offsets', 'metadata', 'metadata value');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: DEPTH }), fc.boolean(), place, (depth, objects, where) => {
        // `[]` as a shape is a scalar's, which a 4-byte tensor may have: not a nesting at all.
        fc.pre(!(where === 'shape' && !objects && depth === 1));
        const deep = nested(depth, objects);
        const entry = (d: string, s: string, o: string) => `{"dtype":${d},"shape":${s},"data_offsets":${o}}`;
        const header = {
          header: deep,
          entry: `{"t":${deep}}`,
          dtype: `{"t":${entry(deep, '[1]', '[0,4]')}}`,
          shape: `{"t":${entry('"F32"', deep, '[0,4]')}}`,
          offsets: `{"t":${entry('"F32"', '[1]', deep)}}`,
          metadata: `{"__metadata__":${deep}}`,
          'metadata value': `{"__metadata__":{"k":${deep}}}`,
        }[where];
        const bytes = file(header, new Uint8Array(4));
        // A deep `{"a":{"a":...1}}` at the top level is a header of one tensor "a": an error too.
        expect(thrown(() => readSafetensors(bytes))).toBeInstanceOf(SafetensorsError);
      }),
      { numRuns: 25 },
    );
  });

  it('duplicate names at any depth are refused, naming the name', () => {
    const ok = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };
    const e1 = thrown(() =>
      readSafetensors(file(`{"t":${JSON.stringify(ok)},"t":${JSON.stringify(ok)}}`, new Uint8Array(4))),
    );
    expect(e1).toBeInstanceOf(SafetensorsError);
    expect((e1 as Error).message).toMatch(/"t" more than once/);
    const e2 = thrown(() =>
      readSafetensors(file('{"t":{"dtype":"F16","shape":[1],"data_offsets":[0,4],"dtype":"F32"}}', new Uint8Array(4))),
    );
    expect(e2).toBeInstanceOf(SafetensorsError);
    expect((e2 as Error).message).toMatch(/tensor "t".*"dtype" more than once/);
    const e3 = thrown(() => readSafetensors(file('{"__metadata__":{"a":"1","a":"2"}}', new Uint8Array(0))));
    expect(e3).toBeInstanceOf(SafetensorsError);
    expect((e3 as Error).message).toMatch(/"a" more than once/);
  });
});

// ---------------------------------------------------------------------------------------
// Shard index

const INDEX = {
  metadata: { total_size: 24 },
  weight_map: { a: shardName(1, 2), b: shardName(2, 2), c: shardName(2, 2) },
};

/** Paths to values inside `root` (objects and arrays): at most `limit`, at most 16 keys long (a
 * deeply nested value an earlier edit put in is replaced whole, not walked). */
function paths(root: unknown, limit = 2000): (string | number)[][] {
  const out: (string | number)[][] = [[]];
  const stack: [unknown, (string | number)[]][] = [[root, []]];
  while (stack.length > 0 && out.length < limit) {
    const [v, p] = stack.pop()!;
    if (typeof v !== 'object' || v === null || p.length >= 16) continue;
    for (const k of Array.isArray(v) ? v.keys() : Object.keys(v)) {
      const q = [...p, k];
      out.push(q);
      stack.push([(v as Record<string | number, unknown>)[k], q]);
    }
  }
  return out;
}

const DELETE = Symbol('delete');
const DEEP_ARRAY = Symbol('deep array');
const DEEP_OBJECT = Symbol('deep object');
/** Deep enough that JSON.stringify, String and structuredClone overflow the stack on it (about 5,000
 * is; JSON.parse is fine), yet quick to parse. */
const DEPTH = 10_000;

/** JSON text of a value, which may be too deep for JSON.stringify: then a deep array's text. */
function jsonText(v: unknown): string {
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return nested(DEPTH, false);
  }
}

/** Replacement values for mutations: any JSON, awkward numbers and strings, deep nesting, deletion. */
const replacement: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      0,
      -1,
      -0,
      0.5,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32,
      2 ** 40,
      2 ** 53 - 1,
      2 ** 53 + 2,
      1e300,
      Number.POSITIVE_INFINITY, // JSON.parse("1e400")
      Number.NEGATIVE_INFINITY,
      '',
      ' ',
      '\u0000',
      '__proto__',
      'model.safetensors',
      '../model.safetensors',
      '.hidden.safetensors',
      null,
      true,
      [],
      {},
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(DEEP_ARRAY, DEEP_OBJECT) },
  { weight: 1, arbitrary: fc.constant(DELETE) },
);

/** `root` (deep-copied) with up to a few values replaced or deleted at random paths. */
function mutateJson(root: unknown, edits: [number, unknown][]): unknown {
  let out = structuredClone(root);
  for (let [at, value] of edits) {
    const all = paths(out);
    const path = all[at % all.length];
    // Fresh copies, so that no edit reaches into a value shared with another run (or into itself).
    if (value === DEEP_ARRAY || value === DEEP_OBJECT) value = JSON.parse(nested(DEPTH, value === DEEP_OBJECT));
    else if (value !== DELETE) value = structuredClone(value);
    if (path.length === 0) {
      out = value === DELETE ? undefined : value;
      continue;
    }
    let parent = out as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const key = path[path.length - 1];
    if (value !== DELETE) parent[key] = value;
    else if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  }
  return out;
}

const edits = fc.array(fc.tuple(fc.nat(), replacement), { minLength: 1, maxLength: 4 });

describe('shard index, fuzzed', () => {
  it('parseShardIndex: only SafetensorsError, for any JSON and for mutated indexes', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        onlyTyped(() => parseShardIndex(v), SafetensorsError);
      }),
      { numRuns: 150 },
    );
    fc.assert(
      fc.property(edits, (e) => {
        const v = mutateJson(INDEX, e);
        const err = onlyTyped(() => parseShardIndex(v), SafetensorsError);
        if (err) expect((err as Error).message).toMatch(/^model\.safetensors\.index\.json: /);
      }),
      { numRuns: 200 },
    );
  });

  it('an index file of any text: only SafetensorsError from gatherWeightFiles', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 60 }),
      edits.map((e) => jsonText(mutateJson(INDEX, e))),
      fc.constantFrom(
        nested(DEPTH, false),
        `{"weight_map":${nested(DEPTH, true)}}`,
        '{"weight_map":{"a":"x.safetensors","a":"y.safetensors"}}',
        '{"weight_map":{"a":"x.safetensors"},"weight_map":{}}',
      ),
    );
    fc.assert(
      fc.property(text, (t) => {
        const files = new Map([[INDEX_FILE, enc.encode(t)]]);
        onlyTyped(() => gatherWeightFiles((n) => files.get(n)), SafetensorsError);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses a tensor listed twice in the index file', () => {
    const files = new Map([[INDEX_FILE, enc.encode('{"weight_map":{"a":"x.safetensors","a":"y.safetensors"}}')]]);
    const e = thrown(() => gatherWeightFiles((n) => files.get(n)));
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as Error).message).toMatch(/^model\.safetensors\.index\.json: .*"a" more than once/);
  });
});

// ---------------------------------------------------------------------------------------
// config.json and tokenizer.json

describe('config.json, fuzzed', () => {
  const configs = [TINY_GPT2_CONFIG, TINY_LLAMA_CONFIG, TINY_QWEN2_CONFIG, TINY_VIT_CONFIG];

  it('parseConfig: only ConfigError, for any JSON and for mutated configs, without hanging', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        onlyTyped(() => parseConfig(v), ConfigError);
      }),
      { numRuns: 150 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...configs), edits, (c, e) => {
        const err = onlyTyped(() => parseConfig(mutateJson(c, e)), ConfigError);
        if (err) expect((err as Error).message).toMatch(/^config\.json: /);
      }),
      { numRuns: 200 },
    );
  });

  it('a config claiming absurd sizes is refused or loads nothing, quickly', () => {
    const fields = ['num_hidden_layers', 'n_layer', 'num_labels', 'vocab_size', 'hidden_size', 'n_embd'];
    const values = [2 ** 31 - 1, 2 ** 32, 2 ** 53 - 1, 1e300];
    const weights = writeSafetensors(new Map());
    for (const base of [TINY_GPT2_CONFIG, TINY_LLAMA_CONFIG, { ...TINY_VIT_CONFIG, id2label: undefined }]) {
      for (const f of fields) {
        for (const v of values) {
          const raw = { ...base, [f]: v };
          onlyTyped(() => parseConfig(raw), ConfigError);
          onlyTyped(
            () => withAllocationLimit(1 << 20, () => loadCheckpoint({ config: raw, weights })),
            ConfigError,
            CheckpointError,
          );
        }
      }
    }
  });
});

describe('tokenizer.json, fuzzed', () => {
  const byteLevel = byteLevelTokenizerJson();
  // A small SentencePiece-style BPE: Metaspace, byte fallback, a merge, an added special token.
  const pieces: Record<string, number> = { '<unk>': 0, '<s>': 1, '▁': 2, a: 3, '▁a': 4 };
  for (let b = 0; b < 256; b++) pieces[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 5 + b;
  const sentencePiece = {
    version: '1.0',
    added_tokens: [{ id: 1, content: '<s>', special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    post_processor: null,
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
      ],
    },
    model: { type: 'BPE', unk_token: '<unk>', byte_fallback: true, vocab: pieces, merges: ['▁ a'] },
  };

  it('refuses token ids past int32, which would slip past the vocab_size check', () => {
    for (const id of [2 ** 31, 2 ** 33, 2 ** 53]) {
      const withAdded = { ...byteLevel, added_tokens: [{ id, content: '<big>', special: true }] };
      expect(() => loadTokenizer(withAdded)).toThrow(TokenizerError);
      const json = structuredClone(byteLevel) as { model: { vocab: Record<string, number> } };
      json.model.vocab.xx = id;
      expect(() => loadTokenizer(json)).toThrow(/vocab entry "xx" has invalid id/);
    }
  });

  it('loadTokenizer: only TokenizerError, for any JSON and for mutated tokenizers', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.option(fc.jsonValue({ maxDepth: 2 })), (v, c) => {
        onlyTyped(() => loadTokenizer(v, c ?? undefined), TokenizerError);
      }),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(fc.constantFrom(byteLevel, sentencePiece), edits, fc.option(edits), (t, e, ce) => {
        const config = ce ? mutateJson({ clean_up_tokenization_spaces: false, add_bos_token: true }, ce) : undefined;
        onlyTyped(() => {
          const tok = loadTokenizer(mutateJson(t, e), config);
          // What loads must also work, and give only ids the embedding has (vocabSize is what the
          // loader checks against vocab_size).
          const ids = tok.encode('a b\u00e9<s>');
          tok.decode(ids);
          expect(Number.isSafeInteger(tok.vocabSize)).toBe(true);
          for (const id of ids) expect(id).toBeLessThan(tok.vocabSize);
        }, TokenizerError);
      }),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------
// A whole sharded checkpoint

describe('sharded checkpoint, fuzzed', () => {
  const config = tinyLlama({ vocab_size: 256 });
  const raw = { ...TINY_LLAMA_CONFIG, vocab_size: 256 };
  const host = randomHostWeights(config, 2);
  const names = [...host.keys()].sort();
  const shards = new Map<string, Uint8Array>();
  const weightMap = new Map<string, string>();
  for (let s = 0; s < 2; s++) {
    const part = new Map<string, TensorEntry>();
    for (const n of names.slice((s * names.length) >> 1, ((s + 1) * names.length) >> 1)) {
      const t = host.get(n)!;
      part.set(n, { dtype: s ? 'BF16' : 'F16', shape: t.shape, data: t.data });
      weightMap.set(n, shardName(s + 1, 2));
    }
    shards.set(shardName(s + 1, 2), writeSafetensors(part));
  }
  const index = JSON.parse(new TextDecoder().decode(writeShardIndex(weightMap, 0)));
  const tokenizer = byteLevelTokenizerJson();

  it('loads only with a typed error, whatever is wrong with the shards or the index', () => {
    fc.assert(
      fc.property(
        fc.array(mutation, { maxLength: 3 }),
        fc.nat({ max: 1 }),
        fc.option(edits, { freq: 3 }),
        (ops, which, indexEdits) => {
          const files = new Map(shards);
          const shard = shardName(which + 1, 2);
          files.set(shard, mutate(files.get(shard)!, ops));
          const idx = indexEdits ? mutateJson(index, indexEdits) : index;
          files.set(INDEX_FILE, enc.encode(jsonText(idx)));
          const total = [...files.values()].reduce((a, b) => a + b.length, 0);
          onlyTyped(
            () =>
              withAllocationLimit(4 * total + (1 << 20), () => {
                const gathered = gatherWeightFiles((n) => files.get(n));
                if (!gathered) throw new CheckpointError('no weights');
                loadCheckpoint({ config: raw, ...gathered, tokenizer });
              }),
            SafetensorsError,
            CheckpointError,
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  /** What a load gives: every weight's bits, the warnings and ignored tensors, or the error's class and message. */
  async function outcome(
    load: () => Promise<{ weights: Map<string, { data: Float32Array }>; warnings: string[]; ignored: string[] }>,
  ) {
    try {
      const { weights, warnings, ignored } = await load();
      const bits = [...weights].map(([n, t]) => [
        n,
        [...new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)],
      ]);
      return { bits, warnings, ignored };
    } catch (e) {
      return { error: (e as Error).constructor.name, message: (e as Error).message };
    }
  }

  it('read by ranges, loads and refuses exactly as loadCheckpoint does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation, { maxLength: 3 }),
        fc.nat({ max: 1 }),
        fc.option(edits, { freq: 3 }),
        async (ops, which, indexEdits) => {
          const files = new Map(shards);
          const shard = shardName(which + 1, 2);
          files.set(shard, mutate(files.get(shard)!, ops));
          const idx = indexEdits ? mutateJson(index, indexEdits) : index;
          files.set(INDEX_FILE, enc.encode(jsonText(idx)));
          const whole = await outcome(async () => {
            const gathered = gatherWeightFiles((n) => files.get(n));
            if (!gathered) throw new CheckpointError('no weights');
            return loadCheckpoint({ config: raw, ...gathered, tokenizer });
          });
          const ranged = await outcome(async () => {
            const gathered = await gatherWeightSources((n) => (files.has(n) ? bytesSource(files.get(n)!) : undefined));
            if (!gathered) throw new CheckpointError('no weights');
            const ck = await openCheckpoint({ config: raw, ...gathered, tokenizer });
            const weights = await ck.tensors(ck.shapes.keys());
            return { weights, warnings: ck.warnings, ignored: ck.ignored };
          });
          expect(ranged).toEqual(whole);
        },
      ),
      { numRuns: 60 },
    );
  });
});
