// Tokenizers from a Hugging Face tokenizer.json (+ tokenizer_config.json when the model has one),
// run by @huggingface/tokenizers — the tokenizer of transformers.js — behind the small interface
// the engine uses.
//
// Supported: BPE models, byte-level (GPT-2, Llama 3, Qwen2, SmolLM: ByteLevel pre-tokenizer and
// decoder) and SentencePiece-style (Llama 2, TinyLlama, Mistral: ▁ for spaces from a Metaspace
// pre-tokenizer or a Prepend/Replace normalizer, `<0xNN>` byte fallback). Anything else is
// refused with a TokenizerError naming what is wrong, before a model loads.
//
// Special tokens: encode(text) adds them as `transformers`' tokenizer(text) does — the
// post-processor's template, e.g. Llama's BOS `<s>`; GPT-2's adds none. Every caller in the
// product uses that default: the evaluation text and the calibration text are each encoded once
// into one stream, as the SparseGPT and Wanda data loaders do with tokenizer(text), so the BOS
// starts the stream and only a window cut at its start holds it; a typed prompt is encoded as
// generate() is given it. encode(text, { addSpecialTokens: false }) gives the text's own tokens.
//
// decode(ids) is `transformers`' decode(ids) with its defaults: special tokens are kept,
// clean_up_tokenization_spaces is what tokenizer_config.json says (false when it says nothing, as
// in current `transformers`), ids with no token are skipped.
//
// tokenToBytes(id) is the UTF-8 a token stands for, so bits per byte can count the bytes of
// predicted tokens:
// - byte-level: the token's characters mapped back to bytes — a token can hold part of a
//   multi-byte character, and its bytes are those, not U+FFFD;
// - byte fallback `<0xNN>`: the byte NN;
// - SentencePiece pieces: the piece with ▁ as a space ("▁the" is " the"). The space the
//   normalizer prepends to a text is counted too: the decoder's Strip removes it from the decoded
//   text as a whole, which a single token cannot know about;
// - special tokens (BOS, EOS, `<unk>`, chat markers): no bytes, as decode(ids,
//   skip_special_tokens=True) gives them no text; other added tokens: their content's UTF-8.
import { ReplaceDecoder, Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { shown } from '../io/shown';

export interface EncodeOptions {
  /** Add the post-processor's special tokens (default true, as `transformers`' tokenizer(text)). */
  addSpecialTokens?: boolean;
}

export interface Tokenizer {
  /** Model vocabulary plus added tokens: the largest id + 1. */
  vocabSize: number;
  encode(text: string, opts?: EncodeOptions): number[];
  /** encode(text) a piece at a time, each piece encoded when first asked for (a few windows of a long text). */
  encodePieces(text: string, opts?: EncodeOptions): TextTokens;
  decode(ids: number[]): string;
  tokenToBytes(id: number): Uint8Array;
}

/**
 * A text's tokens in the pieces encode() cuts it into (LONG_TEXT): encode(text) is every piece's
 * tokens in order, the post-processor's leading special tokens in the first piece and its trailing
 * ones in the last.
 */
export interface TextTokens {
  /** UTF-8 bytes of the text before each piece, the whole text's last: one more entry than pieces. */
  byteStarts: number[];
  /** Piece i's tokens, encoded on first use and kept. */
  piece(i: number): number[];
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

/** SentencePiece's byte-fallback pieces, `<0x00>` … `<0xFF>`. */
const BYTE_PIECES = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

const utf8Encoder = new TextEncoder();

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
  return section === undefined ? 'missing' : shown(section);
}

/** A section's steps: the members of a "Sequence", else the section itself. */
function steps(section: unknown, list: string): unknown[] {
  if (isObject(section) && section.type === 'Sequence' && Array.isArray(section[list])) return section[list];
  return [section];
}

/** Decoder steps whose effect on one token tokenToBytes reproduces. Fuse and Strip act on the
 * decoded text as a whole (Strip removes the space the normalizer prepended), not on a token. */
const DECODER_STEPS = new Set(['ByteLevel', 'ByteFallback', 'Replace', 'Metaspace', 'Fuse', 'Strip']);

/** Token ids index the embedding as int32; a larger id is no token the model can have (and an id
 * of 2^32 or more would not even be an array index, leaving it out of vocabSize). */
const MAX_TOKEN_ID = 2 ** 31 - 2;
const isTokenId = (id: unknown): id is number =>
  Number.isInteger(id) && (id as number) >= 0 && (id as number) <= MAX_TOKEN_ID;

interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

function parseAddedTokens(list: unknown): AddedToken[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new TokenizerError('added_tokens must be an array');
  return list.map((t, i) => {
    if (!isObject(t) || !isTokenId(t.id) || typeof t.content !== 'string' || t.content === '') {
      throw new TokenizerError(
        `added_tokens[${i}] needs an integer "id" from 0 to ${MAX_TOKEN_ID} and a non-empty string "content"`,
      );
    }
    return { id: t.id as number, content: t.content, special: t.special === true };
  });
}

/** The vocabulary as id → token, checked: non-negative integer ids. */
function parseVocab(vocab: unknown): Map<string, number> {
  if (!isObject(vocab)) throw new TokenizerError('BPE model has no "vocab" object');
  const out = new Map<string, number>();
  for (const [token, id] of Object.entries(vocab)) {
    if (!isTokenId(id)) throw new TokenizerError(`vocab entry ${JSON.stringify(token)} has invalid id ${shown(id)}`);
    out.set(token, id as number);
  }
  return out;
}

/** Merges as `tokenizers` reads them ("a b" or ["a", "b"]), each part and result in the vocab. */
function checkMerges(merges: unknown, vocab: Map<string, number>): void {
  if (!Array.isArray(merges)) throw new TokenizerError('BPE model has no "merges" array');
  merges.forEach((m: unknown, rank: number) => {
    const pair = typeof m === 'string' ? m.split(' ') : m;
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((p) => typeof p === 'string')) {
      throw new TokenizerError(`merge ${rank} ${shown(m)} is not a pair of tokens`);
    }
    for (const token of [pair[0], pair[1], pair[0] + pair[1]]) {
      if (!vocab.has(token))
        throw new TokenizerError(`merge ${rank} ${shown(m)}: token ${JSON.stringify(token)} is not in the vocab`);
    }
  });
}

function checkModel(model: unknown): asserts model is Record<string, unknown> {
  if (!isObject(model)) throw new TokenizerError('tokenizer.json has no "model" section');
  if (model.type !== 'BPE') throw new TokenizerError(`unsupported model type ${typeOf(model)}: only BPE is supported`);
  if (model.dropout !== undefined && model.dropout !== null && model.dropout !== 0) {
    throw new TokenizerError(`unsupported BPE dropout ${shown(model.dropout)}`);
  }
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix']) {
    if (model[key] !== undefined && model[key] !== null && model[key] !== '') {
      throw new TokenizerError(`unsupported BPE option ${key} ${shown(model[key])}`);
    }
  }
}

/**
 * Text the vocabulary cannot spell is dropped without a word by `tokenizers` (and by the library)
 * when there is no unk_token; refuse such a file rather than measure a model on text it never saw.
 */
function checkCoverage(model: Record<string, unknown>, vocab: Map<string, number>, byteLevel: boolean): void {
  if (typeof model.unk_token === 'string') {
    if (!vocab.has(model.unk_token))
      throw new TokenizerError(`unk_token ${JSON.stringify(model.unk_token)} is not in the vocab`);
    return;
  }
  const alphabet = byteLevel ? BYTE_TO_CHAR : model.byte_fallback === true ? BYTE_PIECES : null;
  if (!alphabet)
    throw new TokenizerError(
      'the BPE model has no unk_token and no byte fallback, so text outside its vocab would be dropped',
    );
  const missing = alphabet.findIndex((token) => !vocab.has(token));
  if (missing >= 0)
    throw new TokenizerError(
      `byte 0x${missing.toString(16).padStart(2, '0')} has no token (${JSON.stringify(alphabet[missing])}) and there is no unk_token, so text with it would be dropped`,
    );
}

/** tokenizer_config.json as the library takes it, with `transformers`' current default for the clean-up. */
function parseConfig(config: unknown): Record<string, unknown> {
  if (config === undefined || config === null) return { clean_up_tokenization_spaces: false };
  if (!isObject(config)) throw new TokenizerError('tokenizer_config.json: must be a JSON object');
  return { ...config, clean_up_tokenization_spaces: config.clean_up_tokenization_spaces ?? false };
}

/**
 * A text longer than this is encoded in pieces that end at a line break: the library's BPE slows
 * down and takes memory with the length of the piece it merges, and a tokenizer with no
 * pre-tokenizer split (Llama 2's Metaspace) merges the whole text as one piece — minutes and
 * gigabytes for a few megabytes of calibration text. A piece boundary can change the token at it
 * (a Metaspace tokenizer puts ▁ before the piece's first word), one in about ten thousand tokens.
 */
export const LONG_TEXT = 1 << 15;

/** The text cut after the first line break past every LONG_TEXT characters (one piece when short or without breaks). */
function linePieces(text: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (text.length - start > LONG_TEXT) {
    const cut = text.indexOf('\n', start + LONG_TEXT);
    if (cut < 0 || cut === text.length - 1) break;
    pieces.push(text.slice(start, cut + 1));
    start = cut + 1;
  }
  pieces.push(text.slice(start));
  return pieces;
}

export function loadTokenizer(json: unknown, config?: unknown): Tokenizer {
  if (!isObject(json)) throw new TokenizerError('tokenizer.json must be a JSON object');
  const model = json.model;
  checkModel(model);
  const vocab = parseVocab(model.vocab);
  checkMerges(model.merges, vocab);
  const addedTokens = parseAddedTokens(json.added_tokens);

  const decoder = steps(json.decoder, 'decoders');
  for (const step of decoder) {
    if (!isObject(step) || !DECODER_STEPS.has(step.type as string))
      throw new TokenizerError(
        `unsupported decoder ${typeOf(step)}: only ByteLevel, or ByteFallback, Replace, Metaspace, Fuse and Strip`,
      );
  }
  const byteLevel = decoder.some((s) => isObject(s) && s.type === 'ByteLevel');
  if (byteLevel && !steps(json.pre_tokenizer, 'pretokenizers').some((s) => isObject(s) && s.type === 'ByteLevel')) {
    throw new TokenizerError(
      `a ByteLevel decoder needs a ByteLevel pre_tokenizer, not ${typeOf(json.pre_tokenizer)}: text would not map to the vocab's byte characters`,
    );
  }
  checkCoverage(model, vocab, byteLevel);

  let hf: HfTokenizer;
  try {
    // The library wants every section present; a file may leave the unused ones out.
    hf = new HfTokenizer(
      {
        normalizer: null,
        pre_tokenizer: null,
        post_processor: null,
        ...json,
        added_tokens: json.added_tokens ?? [],
      },
      parseConfig(config),
    );
  } catch (e) {
    if (e instanceof TokenizerError) throw e;
    throw new TokenizerError(`tokenizer.json cannot be used: ${(e as Error).message}`);
  }

  const idToToken: string[] = [];
  for (const [token, id] of vocab) idToToken[id] = token;
  const special = new Set<number>();
  const added = new Map<number, string>();
  for (const t of addedTokens) {
    idToToken[t.id] = t.content;
    added.set(t.id, t.content);
    if (t.special) special.add(t.id);
  }
  const vocabSize = idToToken.length;

  function encodeOnce(text: string, specials: boolean): number[] {
    let encoding: { ids: number[]; tokens: string[] };
    try {
      encoding = hf.encode(text, { add_special_tokens: specials });
    } catch (e) {
      throw new TokenizerError(`cannot encode the text: ${(e as Error).message}`);
    }
    const bad = encoding.ids.findIndex((id) => !Number.isInteger(id));
    if (bad >= 0)
      throw new TokenizerError(`token ${JSON.stringify(encoding.tokens[bad])} is not in the vocab or the added tokens`);
    return encoding.ids;
  }

  function encodePieces(text: string, opts: EncodeOptions = {}): TextTokens {
    const specials = opts.addSpecialTokens ?? true;
    const pieces = linePieces(text);
    const byteStarts = [0];
    for (const p of pieces) byteStarts.push(byteStarts[byteStarts.length - 1] + utf8Encoder.encode(p).length);
    const last = pieces.length - 1;
    const encoded = new Map<number, number[]>();
    // The first piece with the special tokens the post-processor adds, split off to go around the whole.
    let firstPiece: { ids: number[]; tail: number } | null = null;
    const first = () => {
      if (firstPiece) return firstPiece;
      const ids = encodeOnce(pieces[0], specials);
      let lead = 0;
      while (lead < ids.length && special.has(ids[lead])) lead++;
      let tail = ids.length;
      while (tail > lead && special.has(ids[tail - 1])) tail--;
      firstPiece = { ids, tail };
      return firstPiece;
    };
    function piece(i: number): number[] {
      let ids = encoded.get(i);
      if (ids) return ids;
      if (!(Number.isInteger(i) && i >= 0 && i <= last)) throw new RangeError(`no piece ${i} of ${pieces.length}`);
      if (last === 0) ids = encodeOnce(text, specials);
      else {
        ids = i === 0 ? first().ids.slice(0, first().tail) : encodeOnce(pieces[i], false);
        if (i === last) ids.push(...first().ids.slice(first().tail));
      }
      encoded.set(i, ids);
      return ids;
    }
    return { byteStarts, piece };
  }

  function encode(text: string, opts: EncodeOptions = {}): number[] {
    const tokens = encodePieces(text, opts);
    const ids: number[] = [];
    for (let i = 0; i < tokens.byteStarts.length - 1; i++) for (const id of tokens.piece(i)) ids.push(id);
    return ids;
  }
  // A post-processor's special tokens must exist; better found now than on the first text.
  encode('');

  // What one token is once decoded, without what the decoder does to the text as a whole.
  const replacers = decoder.map((s) => (isObject(s) && s.type === 'Replace' ? new ReplaceDecoder(s as never) : null));
  function pieceBytes(token: string): Uint8Array {
    let piece = token;
    for (const [i, step] of decoder.entries()) {
      const type = (step as Record<string, unknown>).type;
      if (type === 'ByteLevel') {
        const chars = Array.from(piece);
        // As `tokenizers`' ByteLevel decoder: text outside the byte alphabet stands for itself.
        return chars.every((ch) => CHAR_TO_BYTE.has(ch))
          ? Uint8Array.from(chars, (ch) => CHAR_TO_BYTE.get(ch)!)
          : utf8Encoder.encode(piece);
      }
      if (type === 'ByteFallback') {
        const byte = BYTE_PIECE.exec(piece);
        if (byte) return Uint8Array.of(Number.parseInt(byte[1], 16));
      } else if (type === 'Replace') piece = replacers[i]!.decode_chain([piece])[0];
      else if (type === 'Metaspace') {
        const replacement = (step as Record<string, unknown>).replacement;
        piece = piece.replaceAll(typeof replacement === 'string' ? replacement : '\u2581', ' ');
      }
    }
    return utf8Encoder.encode(piece);
  }

  const tokenBytes: Uint8Array[] = [];
  function bytesOf(id: number): Uint8Array | undefined {
    if (tokenBytes[id] || idToToken[id] === undefined) return tokenBytes[id];
    const content = added.get(id);
    tokenBytes[id] = special.has(id)
      ? new Uint8Array(0)
      : content !== undefined
        ? utf8Encoder.encode(content)
        : pieceBytes(idToToken[id]);
    return tokenBytes[id];
  }

  function tokenToBytes(id: number): Uint8Array {
    const bytes = Number.isInteger(id) && id >= 0 ? bytesOf(id) : undefined;
    if (!bytes) throw new TokenizerError(`token id ${id} is not in the vocabulary`);
    return bytes.slice(); // a copy, so callers can't alter the cache
  }

  function decode(ids: number[]): string {
    // Unknown ids are skipped, as `tokenizers` does (the library would decode them as unk).
    const known = ids.filter((id) => Number.isInteger(id) && id >= 0 && idToToken[id] !== undefined);
    return known.length === 0 ? '' : hf.decode(known);
  }

  return { vocabSize, encode, encodePieces, decode, tokenToBytes };
}
