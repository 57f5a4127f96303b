// A checkpoint in TinyLlama-1.1B's exact shape and a Hugging Face hub layout
// (TinyLlama/TinyLlama-1.1B-Chat-v1.0): LlamaForCausalLM, 22 blocks of width 2048 with grouped-query
// attention (32 query heads over 4 key/value heads) and a SwiGLU FFN of 5632, an untied 32,000-token
// head; 1.1 B parameters in BF16, 2.2 GB, sharded in two as save_pretrained(max_shard_size="1.2GB")
// splits it: model-0000i-of-00002.safetensors (keys sorted, as safetensors writes them) and
// model.safetensors.index.json. Its config.json, tokenizer_config.json and generation_config.json are
// the hub's. The tokenizer.json is Llama 2's kind (SentencePiece BPE: ▁ for spaces from a
// Prepend/Replace normalizer, <0xNN> byte fallback, <s> prepended) with merges learned here from the
// KJV training text, not TinyLlama's (the hub is out of reach): up to 32,000 tokens, but BPE runs out
// of pairs at about 21,000, when every KJV word is one piece, so the ids in use stop there while the
// embedding and head keep the config's 32,000 rows. Weights are seeded random values, normal-ish with
// std 0.02 (RMSNorm scales 1), so the model computes sane numbers but is for measuring loads and
// pruning runs, not for reading its predictions. Written in chunks: the writer holds a few MB, not
// the 2.2 GB.
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { INDEX_FILE, shardName, writeShardIndex } from '../../src/engine/io/shard-index';
import { parseConfig } from '../../src/engine/model/config';
import { paramSpecs, type ParamSpec } from '../../src/engine/model/schema';
import { loadTokenizer } from '../../src/engine/model/tokenizer';
import { loadKjv } from '../../scripts/data/kjv';

/** config.json as the hub has it, byte for byte (Python's json: 10000.0, 1e-05). */
export const TINYLLAMA_CONFIG_TEXT = `{
  "_name_or_path": "/data/tianduo/tinyllama-ft/checkpoint-3890",
  "architectures": [
    "LlamaForCausalLM"
  ],
  "attention_bias": false,
  "bos_token_id": 1,
  "eos_token_id": 2,
  "hidden_act": "silu",
  "hidden_size": 2048,
  "initializer_range": 0.02,
  "intermediate_size": 5632,
  "max_position_embeddings": 2048,
  "model_type": "llama",
  "num_attention_heads": 32,
  "num_hidden_layers": 22,
  "num_key_value_heads": 4,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": null,
  "rope_theta": 10000.0,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.35.0",
  "use_cache": false,
  "vocab_size": 32000
}
`;
export const TINYLLAMA_CONFIG = JSON.parse(TINYLLAMA_CONFIG_TEXT) as Record<string, unknown>;

const GENERATION_CONFIG = {
  bos_token_id: 1,
  eos_token_id: 2,
  max_length: 2048,
  pad_token_id: 0,
  transformers_version: '4.35.0',
};

const specialDecl = (content: string) => ({
  content,
  lstrip: false,
  normalized: false,
  rstrip: false,
  single_word: false,
  special: true,
});

const TOKENIZER_CONFIG = {
  add_bos_token: true,
  add_eos_token: false,
  added_tokens_decoder: { 0: specialDecl('<unk>'), 1: specialDecl('<s>'), 2: specialDecl('</s>') },
  bos_token: '<s>',
  chat_template:
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
  clean_up_tokenization_spaces: false,
  eos_token: '</s>',
  legacy: false,
  model_max_length: 2048,
  pad_token: '</s>',
  padding_side: 'right',
  sp_model_kwargs: {},
  tokenizer_class: 'LlamaTokenizer',
  unk_token: '<unk>',
  use_default_system_prompt: false,
};

export const TINYLLAMA_VOCAB = 32_000;
/** transformers' max_shard_size "1.2GB" (10^9 bytes a GB): the 2.2 GB of weights in two shards. */
const MAX_SHARD_BYTES = 1.2e9;
const STD = 0.02;
const CHUNK = 1 << 22; // values per write: 8 MB of BF16

// ---- Tokenizer ----

const SPACE = '\u2581'; // ▁
const SPECIALS = ['<unk>', '<s>', '</s>'];
const BYTE_PIECES = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);

/**
 * The units BPE learns from, as SentencePiece splits its training text: the text as the normalizer
 * leaves it (a ▁ before the first word, spaces as ▁), cut before each ▁ and between letters, single
 * digits and other symbols, so that no piece spans two words or mixes scripts. A newline has no
 * piece (it is <0x0A>), and the word after it no ▁, as in the text the tokenizer is given.
 */
function trainingUnits(text: string): Map<string, number> {
  const units = new Map<string, number>();
  const normalized = SPACE + text.replaceAll(' ', SPACE);
  for (const m of normalized.matchAll(/▁?\p{L}+|▁?\p{N}|▁?[^\p{L}\p{N}▁\s]+|▁/gu)) {
    units.set(m[0], (units.get(m[0]) ?? 0) + 1);
  }
  return units;
}

/** Pieces are numbered below KEY, so a pair (a, b) is the one number a × KEY + b. */
const KEY = 1 << 16;

/** Max-heap of (count, pair) entries; ties go to the smaller pair key, so training is deterministic. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.counts.length;
  }
  private above(i: number, j: number): boolean {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }
  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    for (let i = this.counts.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.keys[0]];
    const last = this.counts.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.keys.pop();
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < last && this.above(l, m)) m = l;
      if (r < last && this.above(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}

/**
 * Byte-pair encoding learned on `text`: repeatedly the most frequent adjacent pair of pieces within
 * a unit is merged, until the vocabulary (3 special tokens, 256 byte pieces, the text's characters,
 * the merged pieces) holds `vocabSize` tokens or no pair is left. Ids: specials, bytes, merged pieces
 * in the order learned, then the characters by frequency, as Llama 2's vocabulary orders them.
 */
export function learnSentencePieceBpe(
  text: string,
  vocabSize = TINYLLAMA_VOCAB,
): { vocab: Record<string, number>; merges: string[] } {
  if (vocabSize > KEY) throw new RangeError(`vocabSize ${vocabSize}: at most ${KEY}`);
  const units = [...trainingUnits(text)];
  const charCount = new Map<string, number>();
  for (const [unit, n] of units) for (const ch of unit) charCount.set(ch, (charCount.get(ch) ?? 0) + n);
  const chars = [...charCount].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([ch]) => ch);
  // Internal ids: characters first, then merged pieces; renumbered at the end.
  const pieces: string[] = [...chars];
  const pieceId = new Map(pieces.map((p, i) => [p, i]));
  const budget = vocabSize - SPECIALS.length - BYTE_PIECES.length - chars.length;
  const reserved = new Set([...SPECIALS, ...BYTE_PIECES]);

  const words = units.map(([unit]) => Array.from(unit, (ch) => pieceId.get(ch)!));
  const freq = units.map(([, n]) => n);
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const touched = new Set<number>();
  const add = (key: number, n: number, w: number) => {
    pairCount.set(key, (pairCount.get(key) ?? 0) + n);
    touched.add(key);
    if (n > 0) {
      const set = pairWords.get(key);
      if (set) set.add(w);
      else pairWords.set(key, new Set([w]));
    }
  };
  words.forEach((syms, w) => {
    for (let i = 0; i + 1 < syms.length; i++) add(syms[i] * KEY + syms[i + 1], freq[w], w);
  });
  const heap = new PairHeap();
  const flush = () => {
    for (const key of touched) {
      const n = pairCount.get(key)!;
      if (n > 0) heap.push(n, key);
      else {
        pairCount.delete(key);
        pairWords.delete(key);
      }
    }
    touched.clear();
  };
  flush();

  const merges: [number, number][] = [];
  let learned = 0;
  while (learned < budget && heap.size > 0) {
    const [n, key] = heap.pop();
    if (pairCount.get(key) !== n) continue; // an outdated entry
    const a = Math.floor(key / KEY);
    const b = key % KEY;
    const piece = pieces[a] + pieces[b];
    if (reserved.has(piece)) throw new Error(`BPE learned ${JSON.stringify(piece)}, a reserved token`);
    let c = pieceId.get(piece);
    if (c === undefined) {
      c = pieces.length;
      pieces.push(piece);
      pieceId.set(piece, c);
      learned++;
    }
    merges.push([a, b]);
    for (const w of pairWords.get(key) ?? []) {
      const syms = words[w];
      const merged: number[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          merged.push(c);
          i++;
        } else merged.push(syms[i]);
      }
      if (merged.length === syms.length) continue; // the pair left this word in an earlier merge
      for (let i = 0; i + 1 < syms.length; i++) add(syms[i] * KEY + syms[i + 1], -freq[w], w);
      for (let i = 0; i + 1 < merged.length; i++) add(merged[i] * KEY + merged[i + 1], freq[w], w);
      words[w] = merged;
    }
    flush();
  }

  const vocab: Record<string, number> = {};
  let next = 0;
  for (const t of [...SPECIALS, ...BYTE_PIECES]) vocab[t] = next++;
  for (const p of [...pieces.slice(chars.length), ...chars]) vocab[p] = next++;
  return { vocab, merges: merges.map(([a, b]) => `${pieces[a]} ${pieces[b]}`) };
}

/** tokenizer.json in the layout of Llama 2's and TinyLlama's, with a vocabulary learned from `text`. */
export function sentencePieceTokenizerJson(text: string, vocabSize = TINYLLAMA_VOCAB): object {
  const { vocab, merges } = learnSentencePieceBpe(text, vocabSize);
  const bos = { SpecialToken: { id: '<s>', type_id: 0 } };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: SPACE },
        { type: 'Replace', pattern: { String: ' ' }, content: SPACE },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        bos,
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<s>', type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: SPACE }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab,
      merges,
    },
  };
}

// ---- Weights ----

interface Shard {
  file: string;
  /** The shard's tensors in file order (sorted by name), with their byte offsets in the data buffer. */
  tensors: { spec: ParamSpec; seed: number; begin: number; end: number }[];
  header: string;
  /** The whole file: length field, header, data. */
  bytes: number;
}

const elements = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** transformers' shard split: tensors in state-dict order, a new shard when the next would overflow. */
function planShards(): { shards: Shard[]; totalSize: number } {
  const specs = paramSpecs(parseConfig(TINYLLAMA_CONFIG)).map((spec, seed) => ({ spec, seed }));
  const groups: (typeof specs)[] = [[]];
  let size = 0;
  let totalSize = 0;
  for (const t of specs) {
    const bytes = 2 * elements(t.spec.shape);
    if (size + bytes > MAX_SHARD_BYTES && groups[groups.length - 1].length > 0) {
      groups.push([]);
      size = 0;
    }
    groups[groups.length - 1].push(t);
    size += bytes;
    totalSize += bytes;
  }
  const shards = groups.map((group, i): Shard => {
    const sorted = [...group].sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1));
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let offset = 0;
    const tensors = sorted.map(({ spec, seed }) => {
      const begin = offset;
      offset += 2 * elements(spec.shape);
      header[spec.name] = { dtype: 'BF16', shape: spec.shape, data_offsets: [begin, offset] };
      return { spec, seed, begin, end: offset };
    });
    let text = JSON.stringify(header);
    text += ' '.repeat((8 - ((8 + text.length) % 8)) % 8); // data 8-byte aligned, as safetensors writes it
    return { file: shardName(i + 1, groups.length), tensors, header: text, bytes: 8 + text.length + offset };
  });
  return { shards, totalSize };
}

/**
 * Fills `out` with the next values of a seeded stream: normal-ish (the sum of four uniform 16-bit
 * draws, Irwin–Hall, scaled to std `std`) as BF16 bit patterns, rounded to nearest even.
 */
function fillBf16(out: Uint16Array, state: Uint32Array, std: number, f32: Float32Array, u32: Uint32Array): void {
  const scale = std / (65536 / Math.sqrt(3)); // 4 uniforms on [0, 65536): variance 4 × 65536² / 12
  let s = state[0];
  for (let i = 0; i < out.length; i++) {
    // xorshift32, twice: four 16-bit uniforms.
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const r1 = s >>> 0;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const r2 = s >>> 0;
    f32[i] = ((r1 & 0xffff) + (r1 >>> 16) + (r2 & 0xffff) + (r2 >>> 16) - 131070) * scale;
  }
  state[0] = s;
  for (let i = 0; i < out.length; i++) {
    const x = u32[i];
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
}

function writeShard(path: string, shard: Shard): void {
  const partial = `${path}.partial`;
  const fd = openSync(partial, 'w');
  const f32 = new Float32Array(CHUNK);
  const u32 = new Uint32Array(f32.buffer);
  const bits = new Uint16Array(CHUNK);
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(shard.header.length));
    writeSync(fd, len);
    writeSync(fd, Buffer.from(shard.header, 'utf8'));
    for (const t of shard.tensors) {
      const n = elements(t.spec.shape);
      const state = Uint32Array.of(0x9e3779b9 ^ Math.imul(t.seed + 1, 0x85ebca6b) || 1);
      for (let done = 0; done < n; done += CHUNK) {
        const chunk = bits.subarray(0, Math.min(CHUNK, n - done));
        if (t.spec.init === 'ones')
          chunk.fill(0x3f80); // BF16 1.0
        else fillBf16(chunk, state, STD, f32.subarray(0, chunk.length), u32.subarray(0, chunk.length));
        writeSync(fd, new Uint8Array(chunk.buffer, 0, chunk.byteLength));
      }
    }
  } finally {
    closeSync(fd);
  }
  renameSync(partial, path); // a run stopped half-way leaves no file of the wrong content
}

/**
 * Writes the checkpoint into `dir` unless it is there (every shard of the right size, the JSON files
 * present); returns the weights' total file size. `kjvTrain`: the text the tokenizer learns from
 * (default loadKjv()'s training split).
 */
export function writeTinyLlamaShape(dir: string, kjvTrain?: Uint8Array): number {
  const { shards, totalSize } = planShards();
  const fileBytes = shards.reduce((a, s) => a + s.bytes, 0);
  const jsonFiles = ['config.json', 'generation_config.json', 'tokenizer_config.json', 'tokenizer.json', INDEX_FILE];
  const complete = (name: string, bytes?: number) =>
    existsSync(join(dir, name)) && (bytes === undefined || statSync(join(dir, name)).size === bytes);
  if (shards.every((s) => complete(s.file, s.bytes)) && jsonFiles.every((f) => complete(f))) return fileBytes;
  mkdirSync(dir, { recursive: true });

  if (!complete('tokenizer.json')) {
    const text = new TextDecoder().decode(kjvTrain ?? loadKjv().train);
    const json = sentencePieceTokenizerJson(text);
    // The engine must load it and give the text back; cheap next to the weights.
    const tokenizer = loadTokenizer(json, TOKENIZER_CONFIG);
    const sample = text.slice(0, 20_000);
    if (tokenizer.decode(tokenizer.encode(sample, { addSpecialTokens: false })) !== sample)
      throw new Error('the learned tokenizer does not give the KJV text back');
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json, null, 2));
  }
  for (const shard of shards) {
    if (!complete(shard.file, shard.bytes)) writeShard(join(dir, shard.file), shard);
  }
  const weightMap = new Map<string, string>();
  for (const s of shards) for (const t of s.tensors) weightMap.set(t.spec.name, s.file);
  writeFileSync(join(dir, INDEX_FILE), writeShardIndex(weightMap, totalSize));
  writeFileSync(join(dir, 'config.json'), TINYLLAMA_CONFIG_TEXT);
  writeFileSync(join(dir, 'generation_config.json'), `${JSON.stringify(GENERATION_CONFIG, null, 2)}\n`);
  writeFileSync(join(dir, 'tokenizer_config.json'), `${JSON.stringify(TOKENIZER_CONFIG, null, 2)}\n`);
  return fileBytes;
}
