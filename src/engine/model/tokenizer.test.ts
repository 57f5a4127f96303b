import { describe, it, expect } from 'vitest';
import { byteLevelTokenizerJson, loadTokenizer, TokenizerError } from './tokenizer';

const utf8 = (text: string) => Array.from(new TextEncoder().encode(text));

interface Json {
  model: { vocab: Record<string, number>; merges: unknown[] } & Record<string, unknown>;
}
/** A fresh copy of the byte tokenizer's JSON, as a file would give it. */
const byteJson = () => JSON.parse(JSON.stringify(byteLevelTokenizerJson())) as Json & Record<string, unknown>;

/** Byte vocabulary (ids 0..255) plus the results of `merges` at ids 256.., GPT-2 shaped. */
function gpt2Like(merges: string[], preTokenizer: object): object {
  const json = byteJson();
  for (const m of merges) json.model.vocab[m.replace(' ', '')] = Object.keys(json.model.vocab).length;
  // The fields as GPT-2's real tokenizer.json spells them.
  Object.assign(json.model, { merges, continuing_subword_prefix: '', end_of_word_suffix: '' });
  json.pre_tokenizer = preTokenizer;
  json.post_processor = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true };
  return json;
}
const GPT2_PRE = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };

function expectError(json: unknown, message: RegExp): void {
  expect(() => loadTokenizer(json)).toThrow(TokenizerError);
  expect(() => loadTokenizer(json)).toThrow(message);
}

describe('byte-level tokenizer', () => {
  it('ships the tokenizer.json the Hugging Face libraries expect', () => {
    const json = byteLevelTokenizerJson() as Json & Record<string, unknown>;
    expect(json).toMatchObject({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [],
      normalizer: null,
      post_processor: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        merges: [],
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
      },
    });
    const vocab = json.model.vocab;
    expect(Object.keys(vocab)).toHaveLength(256);
    expect(new Set(Object.values(vocab)).size).toBe(256);
    // GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest from U+0100.
    expect(vocab['!']).toBe(33);
    expect(vocab.A).toBe(65);
    expect(vocab['\u0100']).toBe(0);
    expect(vocab['\u0120']).toBe(32); // 'Ġ' is the space
    expect(vocab['\u010a']).toBe(10); // 'Ċ' is the newline
    expect(vocab['\u0143']).toBe(173); // the last one, soft hyphen
    expect(vocab['\u00e9']).toBe(0xe9);
  });

  it('encodes text to its UTF-8 bytes and decodes it back', () => {
    const tokenizer = loadTokenizer(byteJson());
    expect(tokenizer.vocabSize).toBe(256);
    for (const text of [
      'Hello, world!',
      '',
      '  two  spaces\n\ttab',
      'héllo wörld',
      '世界',
      'emoji 😀👍🏽 done',
      '\u0000\u00ff',
    ]) {
      const ids = tokenizer.encode(text);
      expect(ids).toEqual(utf8(text));
      expect(tokenizer.decode(ids)).toBe(text);
    }
  });

  it('gives each token its raw bytes', () => {
    const tokenizer = loadTokenizer(byteJson());
    for (const b of [0, 32, 65, 0xe9, 255]) expect(Array.from(tokenizer.tokenToBytes(b))).toEqual([b]);
    expect(() => tokenizer.tokenToBytes(256)).toThrow(TokenizerError);
  });

  it('decodes invalid UTF-8 to U+FFFD and skips unknown ids', () => {
    const tokenizer = loadTokenizer(byteJson());
    expect(tokenizer.decode([0xff, 0x41])).toBe('\ufffdA');
    expect(tokenizer.decode([0xf0, 0x9f, 0x98])).toBe('\ufffd'); // truncated emoji
    expect(tokenizer.decode([104, 99999, -1, 105])).toBe('hi');
  });
});

describe('BPE', () => {
  // a=0 b=1 c=2 bc=3 ab=4 abc=5 aa=6; "b c" outranks "a b", so "abc" must become a+bc -> abc.
  const small = (merges: unknown[], extra: Record<string, unknown> = {}) => ({
    model: { type: 'BPE', vocab: { a: 0, b: 1, c: 2, bc: 3, ab: 4, abc: 5, aa: 6 }, merges, ...extra },
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    decoder: { type: 'ByteLevel' },
  });
  const pairs = [
    ['b', 'c'],
    ['a', 'b'],
    ['a', 'bc'],
    ['a', 'a'],
  ];

  it('applies merges by rank, with merges as pairs or as strings', () => {
    for (const merges of [pairs, pairs.map((p) => p.join(' '))]) {
      const tokenizer = loadTokenizer(small(merges));
      expect(tokenizer.vocabSize).toBe(7);
      expect(tokenizer.encode('abcab')).toEqual([5, 4]); // a b c a b -> a bc a b -> a bc ab -> abc ab
      expect(tokenizer.encode('aaa')).toEqual([6, 0]); // non-overlapping, left first
      expect(tokenizer.encode('cba')).toEqual([2, 1, 0]);
      expect(tokenizer.decode([5, 4])).toBe('abcab');
    }
  });

  it('rejects characters missing from the vocab unless there is an unk_token', () => {
    expect(() => loadTokenizer(small(pairs)).encode('abx')).toThrow(/character "x" \(byte 120\) is not in the vocab/);
    const withUnk = small(pairs, { unk_token: '<unk>', fuse_unk: true });
    withUnk.model.vocab = { ...withUnk.model.vocab, '<unk>': 7 } as typeof withUnk.model.vocab;
    expect(loadTokenizer(withUnk).encode('axxbc')).toEqual([0, 7, 3]);
  });

  it('rejects merges of tokens outside the vocab', () => {
    expectError(small([['a', 'c']]), /merge 0 .*"ac" is not in the vocab/);
    expectError(small(['a b c']), /merge 0 "a b c" is not a pair/);
  });

  it('splits words with the GPT-2 regex before merging', () => {
    // Merge results get ids 256.. in order: oĠ=256 He=257 ll=258 Hell=259 Hello=260 Ġw=261
    // 's=262 Ġ1=263 Ġ12=264 ĠĠ=265. "o Ġ" ranks first, so it would win if words weren't split.
    const merges = ['o Ġ', 'H e', 'l l', 'He ll', 'Hell o', 'Ġ w', "' s", 'Ġ 1', 'Ġ1 2', 'Ġ Ġ'];
    const text = "Hello world's 123  x";
    // Words: "Hello" " world" "'s" " 123" " " " x" (the last space of a run joins the next word).
    const tokenizer = loadTokenizer(gpt2Like(merges, GPT2_PRE));
    expect(tokenizer.vocabSize).toBe(266);
    const ids = tokenizer.encode(text);
    expect(ids).toEqual([260, 261, 111, 114, 108, 100, 262, 264, 51, 32, 32, 120]);
    expect(tokenizer.decode(ids)).toBe(text);
    expect(Array.from(tokenizer.tokenToBytes(261))).toEqual([32, 119]);

    // The same text as one word: "o Ġ" now applies and "Ġ Ġ" joins the double space.
    const unsplit = loadTokenizer(gpt2Like(merges, { ...GPT2_PRE, use_regex: false }));
    expect(unsplit.encode(text)).toEqual([259, 256, 119, 111, 114, 108, 100, 262, 264, 51, 265, 120]);

    const prefixed = loadTokenizer(gpt2Like(merges, { ...GPT2_PRE, add_prefix_space: true }));
    expect(prefixed.encode('Hello')).toEqual([32, 260]);
    expect(prefixed.encode(' Hello')).toEqual([32, 260]);
  });

  it('normalizes with a Unicode normal form', () => {
    const json = { ...byteJson(), normalizer: { type: 'NFC' } };
    expect(loadTokenizer(json).encode('e\u0301')).toEqual([0xc3, 0xa9]);
  });
});

describe('added tokens', () => {
  const withAdded = (tokens: object[]) => ({ ...byteJson(), added_tokens: tokens });
  const token = (id: number, content: string, extra: object = {}) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
    ...extra,
  });

  it('are recognised in the input and in decode', () => {
    const tokenizer = loadTokenizer(withAdded([token(256, '<|endoftext|>')]));
    expect(tokenizer.vocabSize).toBe(257);
    const text = 'hi<|endoftext|>yo<|endoftext|>';
    const ids = tokenizer.encode(text);
    expect(ids).toEqual([104, 105, 256, 121, 111, 256]);
    expect(tokenizer.decode(ids)).toBe(text);
    expect(tokenizer.tokenToBytes(256)).toEqual(new TextEncoder().encode('<|endoftext|>'));
    expect(tokenizer.encode('<|endoftext')).toEqual(utf8('<|endoftext'));
  });

  it('prefer the longest match and honour lstrip, rstrip and single_word', () => {
    const tokenizer = loadTokenizer(
      withAdded([
        token(256, '<|end|>'),
        token(257, '<|endoftext|>'),
        token(258, '<mask>', { lstrip: true }),
        token(259, '[X]', { rstrip: true, single_word: true }),
      ]),
    );
    expect(tokenizer.encode('<|end|><|endoftext|>')).toEqual([256, 257]);
    expect(tokenizer.encode('a <mask> b')).toEqual([97, 258, 32, 98]);
    expect(tokenizer.encode('[X]  b')).toEqual([259, 98]);
    expect(tokenizer.encode('a[X]')).toEqual(utf8('a[X]'));
  });
});

describe('unsupported tokenizer.json files', () => {
  it('are rejected with a message naming what is unsupported', () => {
    const base = byteJson();
    expectError(null, /must be a JSON object/);
    expectError({ ...base, model: undefined }, /no "model" section/);
    expectError(
      { ...base, model: { type: 'WordPiece', vocab: {}, unk_token: '[UNK]' } },
      /unsupported model type "WordPiece"/,
    );
    expectError({ ...base, model: { type: 'Unigram', vocab: [] } }, /unsupported model type "Unigram"/);
    expectError({ ...base, model: { vocab: {} } }, /unsupported model type without a "type"/);
    expectError({ ...base, normalizer: { type: 'BertNormalizer' } }, /unsupported normalizer "BertNormalizer"/);
    expectError({ ...base, pre_tokenizer: { type: 'Whitespace' } }, /unsupported pre_tokenizer "Whitespace"/);
    expectError({ ...base, pre_tokenizer: null }, /unsupported pre_tokenizer null/);
    expectError({ ...base, decoder: { type: 'WordPiece' } }, /unsupported decoder "WordPiece"/);
    expectError({ ...base, model: { ...base.model, byte_fallback: true } }, /byte_fallback/);
    expectError({ ...base, model: { ...base.model, continuing_subword_prefix: '##' } }, /continuing_subword_prefix/);
    expectError({ ...base, model: { ...base.model, dropout: 0.1 } }, /dropout/);
    expectError({ ...base, added_tokens: [{ id: 'x', content: 'y' }] }, /added_tokens\[0\]/);
  });
});
