// Hugging Face tokenizer.json support for byte-level BPE (GPT-2 style) tokenizers.
//
// Pipeline, mirroring the `tokenizers` library: split out added tokens -> normalize ->
// ByteLevel pre-tokenizer (optional prefix space, optional GPT-2 regex split, bytes mapped
// to printable unicode chars) -> BPE by merge rank. Decoding maps the chars back to bytes and
// UTF-8-decodes them. encode() adds no special tokens (like add_special_tokens=False), so
// the post_processor, truncation and padding sections are not used.

export interface Tokenizer {
  vocabSize: number;
  encode(text: string): number[];
  decode(ids: number[]): string;
  tokenToBytes(id: number): Uint8Array;
}

export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

// GPT-2's bytes_to_unicode(): printable bytes map to themselves, the other 68 bytes to
// U+0100.. in byte order, so every byte becomes one visible, non-space character.
const BYTE_TO_CHAR: string[] = [];
const CHAR_TO_BYTE = new Map<string, number>();
{
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    BYTE_TO_CHAR[b] = String.fromCharCode(printable(b) ? b : next++);
    CHAR_TO_BYTE.set(BYTE_TO_CHAR[b], b);
  }
}

// GPT-2's pre-tokenization regex. `\s` is spelled \p{White_Space}: JS's \s differs from the
// Unicode White_Space class used by the Rust/Python implementations (JS adds U+FEFF, lacks U+0085).
const GPT2_SPLIT =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/** The normalizers we implement: the Unicode normal forms. */
const NORMAL_FORMS = new Set(['NFC', 'NFD', 'NFKC', 'NFKD']);

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8'); // non-fatal: invalid sequences become U+FFFD

/** The tokenizer.json shipped with our byte-level models: token id = byte value, no merges. */
export function byteLevelTokenizerJson(): object {
  const vocab: Record<string, number> = {};
  BYTE_TO_CHAR.forEach((ch, b) => {
    vocab[ch] = b;
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How a section is named in error messages: its "type", or what it is instead. */
function typeOf(section: unknown): string {
  if (isObject(section)) return typeof section.type === 'string' ? JSON.stringify(section.type) : 'without a "type"';
  return section === undefined ? 'missing' : JSON.stringify(section);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface AddedToken {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
}

function parseAddedTokens(list: unknown): AddedToken[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new TokenizerError('added_tokens must be an array');
  return list.map((t, i) => {
    if (
      !isObject(t) ||
      !Number.isInteger(t.id) ||
      (t.id as number) < 0 ||
      typeof t.content !== 'string' ||
      t.content === ''
    ) {
      throw new TokenizerError(`added_tokens[${i}] needs a non-negative integer "id" and a non-empty string "content"`);
    }
    return t as unknown as AddedToken;
  });
}

/** A regex matching any of `tokens` with one capture group per token, in order. Callers
 * sort tokens longest first so that alternation picks the longest match at a position.
 * lstrip/rstrip swallow adjacent whitespace; single_word requires no letter, digit or
 * underscore on either side. */
function addedTokenRegex(tokens: AddedToken[]): RegExp | null {
  if (tokens.length === 0) return null;
  const alternatives = tokens.map((t) => {
    let p = escapeRegExp(t.content);
    if (t.single_word) p = `(?<![\\p{L}\\p{N}_])${p}(?![\\p{L}\\p{N}_])`;
    if (t.lstrip) p = `\\p{White_Space}*${p}`;
    if (t.rstrip) p = `${p}\\p{White_Space}*`;
    return `(${p})`;
  });
  return new RegExp(alternatives.join('|'), 'gu');
}

export function loadTokenizer(json: unknown): Tokenizer {
  if (!isObject(json)) throw new TokenizerError('tokenizer.json must be a JSON object');
  const model = json.model;
  if (!isObject(model)) throw new TokenizerError('tokenizer.json has no "model" section');
  if (model.type !== 'BPE') throw new TokenizerError(`unsupported model type ${typeOf(model)}: only BPE is supported`);
  if (model.dropout !== undefined && model.dropout !== null && model.dropout !== 0) {
    throw new TokenizerError(`unsupported BPE dropout ${JSON.stringify(model.dropout)}`);
  }
  if (model.byte_fallback === true)
    throw new TokenizerError('unsupported BPE option byte_fallback (not used by byte-level BPE)');
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix']) {
    if (model[key] !== undefined && model[key] !== null && model[key] !== '') {
      throw new TokenizerError(`unsupported BPE option ${key} ${JSON.stringify(model[key])}`);
    }
  }

  let normalize = (s: string) => s;
  const normalizer = json.normalizer;
  if (normalizer !== undefined && normalizer !== null) {
    const form = isObject(normalizer) ? normalizer.type : undefined;
    if (typeof form !== 'string' || !NORMAL_FORMS.has(form))
      throw new TokenizerError(`unsupported normalizer ${typeOf(normalizer)}`);
    normalize = (s) => s.normalize(form);
  }
  const pre = json.pre_tokenizer;
  if (!isObject(pre) || pre.type !== 'ByteLevel') {
    throw new TokenizerError(`unsupported pre_tokenizer ${typeOf(pre)}: only ByteLevel is supported`);
  }
  const addPrefixSpace = pre.add_prefix_space === true;
  const useRegex = pre.use_regex !== false; // defaults to true in `tokenizers`
  if (!isObject(json.decoder) || json.decoder.type !== 'ByteLevel') {
    throw new TokenizerError(`unsupported decoder ${typeOf(json.decoder)}: only ByteLevel is supported`);
  }

  // Vocabulary and the reverse table (sparse if ids have gaps).
  if (!isObject(model.vocab)) throw new TokenizerError('BPE model has no "vocab" object');
  const vocab = new Map<string, number>();
  const idToToken: string[] = [];
  for (const [token, id] of Object.entries(model.vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0)
      throw new TokenizerError(`vocab entry ${JSON.stringify(token)} has invalid id ${JSON.stringify(id)}`);
    vocab.set(token, id as number);
    idToToken[id as number] = token;
  }
  const addedTokens = parseAddedTokens(json.added_tokens);
  for (const t of addedTokens) idToToken[t.id] = t.content;
  const vocabSize = idToToken.length;

  // Merges, keyed by the id pair (unambiguous even if tokens contain spaces).
  const pairKey = (a: number, b: number) => a * vocabSize + b;
  const merges = new Map<number, { rank: number; id: number }>();
  if (!Array.isArray(model.merges)) throw new TokenizerError('BPE model has no "merges" array');
  model.merges.forEach((m: unknown, rank: number) => {
    // Older files write "a b", newer ones ["a", "b"].
    const pair = typeof m === 'string' ? m.split(' ') : m;
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((p) => typeof p === 'string')) {
      throw new TokenizerError(`merge ${rank} ${JSON.stringify(m)} is not a pair of tokens`);
    }
    const ids = [pair[0], pair[1], pair[0] + pair[1]].map((token) => {
      const id = vocab.get(token);
      if (id === undefined)
        throw new TokenizerError(
          `merge ${rank} ${JSON.stringify(m)}: token ${JSON.stringify(token)} is not in the vocab`,
        );
      return id;
    });
    const key = pairKey(ids[0], ids[1]);
    if (!merges.has(key)) merges.set(key, { rank, id: ids[2] }); // first (lowest) rank wins
  });

  let unkId: number | undefined;
  if (typeof model.unk_token === 'string') {
    unkId = vocab.get(model.unk_token);
    if (unkId === undefined)
      throw new TokenizerError(`unk_token ${JSON.stringify(model.unk_token)} is not in the vocab`);
  }
  const fuseUnk = model.fuse_unk === true;
  const ignoreMerges = model.ignore_merges === true;

  const byteIds = BYTE_TO_CHAR.map((ch) => vocab.get(ch));

  /** BPE on one pre-tokenized word, given as its UTF-8 bytes. */
  function bpe(bytes: Uint8Array): number[] {
    if (ignoreMerges) {
      const whole = vocab.get(Array.from(bytes, (b) => BYTE_TO_CHAR[b]).join(''));
      if (whole !== undefined) return [whole];
    }
    let symbols: number[] = [];
    for (const b of bytes) {
      const id = byteIds[b];
      if (id !== undefined) symbols.push(id);
      else if (unkId === undefined) {
        throw new TokenizerError(
          `character ${JSON.stringify(BYTE_TO_CHAR[b])} (byte ${b}) is not in the vocab and there is no unk_token`,
        );
      } else if (!(fuseUnk && symbols[symbols.length - 1] === unkId)) symbols.push(unkId);
    }
    // GPT-2's loop: find the lowest-ranked adjacent pair, merge all its occurrences, repeat.
    for (;;) {
      let best: { rank: number; id: number } | undefined;
      let bestA = 0;
      let bestB = 0;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const m = merges.get(pairKey(symbols[i], symbols[i + 1]));
        if (m && (!best || m.rank < best.rank)) [best, bestA, bestB] = [m, symbols[i], symbols[i + 1]];
      }
      if (!best) return symbols;
      const merged: number[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === bestA && symbols[i + 1] === bestB) {
          merged.push(best.id);
          i++;
        } else merged.push(symbols[i]);
      }
      symbols = merged;
    }
  }

  // Per-word cache, bounded so long, varied inputs don't grow memory without end. Long words
  // (a whole text when use_regex is false) are rarely repeated and are not cached.
  const cache = new Map<string, number[]>();
  const CACHE_ENTRIES = 10_000;
  const CACHE_WORD_LENGTH = 256;

  function encodeSegment(text: string, out: number[]): void {
    text = normalize(text);
    if (text === '') return;
    if (addPrefixSpace && !text.startsWith(' ')) text = ` ${text}`;
    const words = useRegex ? (text.match(GPT2_SPLIT) ?? []) : [text];
    for (const word of words) {
      let ids = cache.get(word);
      if (!ids) {
        ids = bpe(utf8Encoder.encode(word));
        if (word.length <= CACHE_WORD_LENGTH) {
          if (cache.size >= CACHE_ENTRIES) cache.clear();
          cache.set(word, ids);
        }
      }
      for (const id of ids) out.push(id); // not push(...ids): a long word would overflow the argument limit
    }
  }

  // Added tokens are matched on the raw text (before normalization); the capture group
  // that matched tells which token it was.
  const longestFirst = [...addedTokens].sort((a, b) => b.content.length - a.content.length);
  const addedRegex = addedTokenRegex(longestFirst);

  function encode(text: string): number[] {
    const out: number[] = [];
    if (!addedRegex) {
      encodeSegment(text, out);
      return out;
    }
    let last = 0;
    for (const match of text.matchAll(addedRegex)) {
      encodeSegment(text.slice(last, match.index), out);
      out.push(longestFirst[match.findIndex((g, i) => i > 0 && g !== undefined) - 1].id);
      last = match.index + match[0].length;
    }
    encodeSegment(text.slice(last), out);
    return out;
  }

  /** As Hugging Face's ByteLevel decoder: each char maps back to its byte, but a token with
   * any char outside the byte alphabet (possible for added tokens, whose content is plain
   * text) is taken as its UTF-8 bytes. Cached by id. */
  const tokenBytes: Uint8Array[] = [];
  function bytesOf(id: number): Uint8Array | undefined {
    const token = idToToken[id];
    if (token === undefined || tokenBytes[id]) return tokenBytes[id];
    const chars = Array.from(token);
    tokenBytes[id] = chars.every((ch) => CHAR_TO_BYTE.has(ch))
      ? Uint8Array.from(chars, (ch) => CHAR_TO_BYTE.get(ch)!)
      : utf8Encoder.encode(token);
    return tokenBytes[id];
  }

  function tokenToBytes(id: number): Uint8Array {
    const bytes = bytesOf(id);
    if (!bytes) throw new TokenizerError(`token id ${id} is not in the vocabulary`);
    return bytes.slice(); // a copy, so callers can't alter the cache
  }

  function decode(ids: number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      // Unknown ids are skipped, as `tokenizers` does.
      for (const b of bytesOf(id) ?? []) bytes.push(b);
    }
    return utf8Decoder.decode(Uint8Array.from(bytes));
  }

  return { vocabSize, encode, decode, tokenToBytes };
}
