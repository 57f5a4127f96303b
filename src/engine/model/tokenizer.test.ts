// Tokenizers from tokenizer.json files written here, one per style the workbench supports
// (GPT-2 byte-level BPE, Llama 2 / TinyLlama SentencePiece BPE with byte fallback, Llama 3
// byte-level BPE with added special tokens), with every expected id worked out by hand from the
// vocab and merges below; and the cases where the library and `tokenizers` part ways.
import { describe, it, expect } from 'vitest';
import { byteLevelTokenizerJson, LONG_TEXT, loadTokenizer, TokenizerError, type Tokenizer } from './tokenizer';

const utf8 = (text: string) => Array.from(new TextEncoder().encode(text));
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

type Json = Record<string, unknown> & { model: Record<string, unknown> & { vocab: Record<string, number> } };
/** A fresh copy of the byte tokenizer's JSON, as a file would give it: ids 0–255 are the bytes. */
const byteJson = () => clone(byteLevelTokenizerJson()) as Json;

/** Appends the result of each merge ("a b") to the vocab, in order, from the next free id. */
function withMerges(json: Json, merges: string[]): Json {
  const vocab = json.model.vocab;
  for (const m of merges) vocab[m.replace(' ', '')] ??= Object.keys(vocab).length;
  json.model.merges = merges;
  return json;
}

const special = (id: number, content: string, isSpecial = true) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: !isSpecial,
  special: isSpecial,
});

/** The bytes of a token sequence, joined. */
const bytesOf = (tokenizer: Tokenizer, ids: number[]) => ids.flatMap((id) => Array.from(tokenizer.tokenToBytes(id)));

function expectError(json: unknown, message: RegExp, config?: unknown): void {
  expect(() => loadTokenizer(json, config)).toThrow(TokenizerError);
  expect(() => loadTokenizer(json, config)).toThrow(message);
}

describe('the shipped byte tokenizer', () => {
  it('is the tokenizer.json the Hugging Face libraries expect', () => {
    const json = byteLevelTokenizerJson() as Json;
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
    const tokenizer = loadTokenizer(byteJson(), { clean_up_tokenization_spaces: false });
    expect(tokenizer.vocabSize).toBe(256);
    for (const text of [
      'Hello, world!',
      '',
      '  two  spaces\n\ttab',
      'héllo wörld',
      '世界',
      'emoji 😀👍🏽 done',
      '\u0000\u00ff',
      "it 's a test .",
    ]) {
      const ids = tokenizer.encode(text);
      expect(ids).toEqual(utf8(text));
      expect(tokenizer.encode(text, { addSpecialTokens: false })).toEqual(ids);
      expect(tokenizer.decode(ids)).toBe(text);
    }
  });

  it('gives each token its raw byte', () => {
    const tokenizer = loadTokenizer(byteJson());
    for (const b of [0, 32, 65, 0xe9, 255]) expect(Array.from(tokenizer.tokenToBytes(b))).toEqual([b]);
    expect(() => tokenizer.tokenToBytes(256)).toThrow(TokenizerError);
    expect(() => tokenizer.tokenToBytes(-1)).toThrow(/token id -1 is not in the vocabulary/);
  });

  it('decodes invalid UTF-8 to U+FFFD and skips unknown ids', () => {
    const tokenizer = loadTokenizer(byteJson());
    expect(tokenizer.decode([0xff, 0x41])).toBe('\ufffdA');
    expect(tokenizer.decode([0xf0, 0x9f, 0x98])).toBe('\ufffd'); // truncated emoji
    expect(tokenizer.decode([104, 99999, -1, 105])).toBe('hi');
    expect(tokenizer.decode([])).toBe('');
    expect(tokenizer.decode([99999])).toBe('');
  });
});

describe('GPT-2-style byte-level BPE', () => {
  // Bytes are ids 0–255; the merges' results follow: Ġw=256 or=257 Ġwor=258 ld=259 Ġworld=260
  // he=261 é ("Ã©", the bytes C3 A9)=262 ĠĠ=263 ĊĊ=264 20=265 202=266; <|endoftext|>=267.
  const merges = ['Ġ w', 'o r', 'Ġw or', 'l d', 'Ġwor ld', 'h e', 'Ã ©', 'Ġ Ġ', 'Ċ Ċ', '2 0', '20 2'];
  const gpt2 = () => {
    const json = withMerges(byteJson(), merges);
    json.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    json.post_processor = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true };
    json.added_tokens = [special(267, '<|endoftext|>')];
    json.model.vocab['<|endoftext|>'] = 267;
    return json;
  };
  const tokenizer = loadTokenizer(gpt2());
  const cases: [string, number[]][] = [
    // Words "the" " world". "the": t h e → "h e" → t he. " world": Ġ w o r l d → Ġw o r l d →
    // Ġw or l d → Ġwor l d → Ġwor ld → Ġworld.
    ['the world', [116, 261, 260]],
    // Words "a" "  " " b" "\n" "\n" "c": a run of spaces leaves its last one to the next word, and
    // the regex splits "\n\n" before "c" into two words, so "Ċ Ċ" never applies; "  " is ĠĠ.
    ['a   b\n\nc', [97, 263, 32, 98, 10, 10, 99]],
    // "café" is one word: c a f C3 A9 → c a f é. " 😀" is one word of 5 bytes, no merges.
    ['café 😀', [99, 97, 102, 262, 32, 0xf0, 0x9f, 0x98, 0x80]],
    // "2024": 2 0 2 4 → 20 2 4 → 202 4.
    ['2024', [266, 52]],
  ];

  it('encodes by the GPT-2 regex and the merges, adding no special tokens', () => {
    expect(tokenizer.vocabSize).toBe(268);
    for (const [text, ids] of cases) {
      expect(tokenizer.encode(text)).toEqual(ids);
      expect(tokenizer.encode(text, { addSpecialTokens: false })).toEqual(ids);
      expect(tokenizer.decode(ids)).toBe(text);
      expect(bytesOf(tokenizer, ids)).toEqual(utf8(text));
    }
  });

  it('gives tokens their raw bytes, parts of a character included', () => {
    expect(Array.from(tokenizer.tokenToBytes(260))).toEqual(utf8(' world'));
    expect(Array.from(tokenizer.tokenToBytes(262))).toEqual([0xc3, 0xa9]);
    expect(Array.from(tokenizer.tokenToBytes(0xf0))).toEqual([0xf0]); // the first byte of 😀
  });

  it('matches <|endoftext|> in the text; as a special token it has no bytes', () => {
    const ids = tokenizer.encode('hi<|endoftext|>he');
    expect(ids).toEqual([104, 105, 267, 261]);
    expect(tokenizer.decode(ids)).toBe('hi<|endoftext|>he');
    expect(bytesOf(tokenizer, ids)).toEqual(utf8('hihe'));
    expect(tokenizer.encode('<|endoftext')).toEqual(utf8('<|endoftext'));
  });

  it('follows tokenizer_config.json on cleaning up spaces in decode (off unless it says so)', () => {
    const ids = tokenizer.encode('yes .');
    expect(tokenizer.decode(ids)).toBe('yes .');
    expect(loadTokenizer(gpt2(), { clean_up_tokenization_spaces: true }).decode(ids)).toBe('yes.');
  });

  // The library splits words with JavaScript's \s, where `tokenizers` uses Oniguruma's: U+0085
  // (NEL) is white space only in the latter, U+FEFF only in the former. With a merge of the space
  // and the first byte after it, the words decide the ids.
  it.fails('splits words at U+0085 as tokenizers does (the library does not)', () => {
    // Ġ Â: the space and C2, the first byte of U+0085 (C2 85). `tokenizers`: words "a" " " "\u0085"
    // "b", no merge: 97 32 C2 85 98. The library: "a" " \u0085" "b", and Ġ Â merges.
    const t = loadTokenizer(withMerges(gpt2(), [...merges, 'Ġ Â']));
    expect(t.encode('a \u0085b')).toEqual([97, 32, 0xc2, 0x85, 98]);
  });

  it.fails('keeps U+FEFF in a word as tokenizers does (the library does not)', () => {
    // Ġ ï: the space and EF, the first byte of U+FEFF (EF BB BF). `tokenizers`: words "a"
    // " \ufeff" "b", so Ġ ï merges (id 268). The library: "a" " " "\ufeff" "b", no merge.
    const t = loadTokenizer(withMerges(gpt2(), [...merges, 'Ġ ï']));
    expect(t.encode('a \ufeffb')).toEqual([97, 268, 0xbb, 0xbf, 98]);
  });
});

describe('Llama 2 / TinyLlama-style SentencePiece BPE with byte fallback', () => {
  // <unk>=0 <s>=1 </s>=2, <0x00>…<0xFF>=3…258 (byte NN is 3 + NN), ▁=259, then the characters
  // H=260 e=261 l=262 o=263 w=264 r=265 d=266 i=267 c=268 a=269 f=270 é=271 2=272 0=273 4=274, then
  // the merges' results: ll=275 ▁w=276 ell=277 Hell=278 Hello=279 ▁Hello=280 or=281 ▁wor=282
  // ▁▁=283 ca=284 fé=285 café=286 ▁café=287. "\n", "ñ", "b" and emoji are not in it: byte fallback.
  const merges = [
    'l l',
    '▁ w',
    'e ll',
    'H ell',
    'Hell o',
    '▁ Hello',
    'o r',
    '▁w or',
    '▁ ▁',
    'c a',
    'f é',
    'ca fé',
    '▁ café',
  ];
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  for (const ch of ['▁', ...'Helowrdicafé204']) vocab[ch] = Object.keys(vocab).length;
  const bos = { SpecialToken: { id: '<s>', type_id: 0 } };
  /** TinyLlama's tokenizer.json, shrunk: the legacy normalizer (Prepend ▁, spaces → ▁), no pre-tokenizer. */
  const llama = (): Json =>
    withMerges(
      {
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
        normalizer: {
          type: 'Sequence',
          normalizers: [
            { type: 'Prepend', prepend: '▁' },
            { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
          ],
        },
        pre_tokenizer: null,
        post_processor: {
          type: 'TemplateProcessing',
          single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, bos, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
        },
        decoder: {
          type: 'Sequence',
          decoders: [
            { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
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
          vocab: { ...vocab },
          merges: [],
        },
      },
      merges,
    );
  /** The same as newer conversions write it (Mistral v0.3): a Metaspace pre-tokenizer instead of the normalizer. */
  const metaspace = (): Json => ({
    ...llama(),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
  });
  const cases: [string, number[]][] = [
    // ▁ H e l l o ▁ w o r l d → ll, ▁w, ell, Hell, Hello, ▁Hello, or, ▁wor: ▁Hello ▁wor l d.
    ['Hello world', [280, 282, 262, 266]],
    // ▁Hello▁▁world\n: "▁ w" outranks "▁ ▁", so the second ▁ joins w and the first stays alone;
    // "\n" is not in the vocab: <0x0A> = 13.
    ['Hello  world\n', [280, 259, 282, 262, 266, 13]],
    // ▁ H i ▁ 😀: no merge applies; 😀 is F0 9F 98 80 → 243 162 155 131.
    ['Hi 😀', [259, 260, 267, 259, 243, 162, 155, 131]],
    // ▁ c a f é ▁ a ñ o → ca, fé, café, ▁café; ñ is C3 B1 → 198 180.
    ['café año', [287, 259, 269, 198, 180, 263]],
    // No merges join digits: ▁ 2 0 2 4.
    ['2024', [259, 272, 273, 272, 274]],
  ];

  for (const [style, make] of [
    ['the Prepend/Replace normalizer', llama],
    ['a Metaspace pre-tokenizer', metaspace],
  ] as const) {
    it(`encodes with ${style}, BOS first, and decodes as transformers does`, () => {
      const tokenizer = loadTokenizer(make());
      expect(tokenizer.vocabSize).toBe(288);
      for (const [text, ids] of cases) {
        expect(tokenizer.encode(text)).toEqual([1, ...ids]);
        expect(tokenizer.encode(text, { addSpecialTokens: false })).toEqual(ids);
        // transformers' decode keeps <s>; the decoder's Strip then finds no leading space to remove.
        expect(tokenizer.decode([1, ...ids])).toBe(`<s> ${text}`);
        expect(tokenizer.decode(ids)).toBe(text);
        // Each piece's bytes, the ▁ the normalizer put before the text included; <s> has none.
        expect(bytesOf(tokenizer, [1, ...ids])).toEqual(utf8(` ${text}`));
      }
    });
  }

  it('encodes a long text a line-ended piece at a time: BOS once, each line as alone', () => {
    const tokenizer = loadTokenizer(llama());
    const line = 'Hello world\n';
    const lines = Math.ceil((2.5 * LONG_TEXT) / line.length);
    const ids = tokenizer.encode(line.repeat(lines));
    const one = tokenizer.encode(line, { addSpecialTokens: false });
    // Pieces start after a line break; only a piece's first line gains the ▁ the normalizer prepends.
    expect(ids[0]).toBe(1);
    expect(ids.filter((id) => id === 1)).toHaveLength(1);
    const body = ids.slice(1);
    // "Hello" and "▁Hello" are one token each, so every line takes as many tokens as alone.
    expect(body.length).toBe(one.length * lines);
    expect(tokenizer.decode(ids.slice(1)).replaceAll(' Hello', 'Hello')).toBe(line.repeat(lines));
  });

  it('encodePieces gives encode(text) a piece at a time, encoding only the pieces asked for', () => {
    const tokenizer = loadTokenizer(llama());
    const text = 'Hello world\n'.repeat(Math.ceil((2.5 * LONG_TEXT) / 12));
    const pieces = tokenizer.encodePieces(text);
    expect(pieces.byteStarts).toHaveLength(4);
    expect(pieces.byteStarts[3]).toBe(utf8(text).length);
    expect([0, 1, 2].flatMap((i) => pieces.piece(i))).toEqual(tokenizer.encode(text));
    // A short text is one piece, its specials around it.
    const short = tokenizer.encodePieces('Hello world');
    expect(short.byteStarts).toEqual([0, 11]);
    expect(short.piece(0)).toEqual(tokenizer.encode('Hello world'));
    expect(() => short.piece(1)).toThrow(RangeError);
  });

  it('a byte-level tokenizer encodes a long text exactly as line by line', () => {
    const tokenizer = loadTokenizer(byteJson());
    const text = 'In the beginning God created the heaven and the earth.\n'.repeat(Math.ceil((3 * LONG_TEXT) / 56));
    expect(tokenizer.encode(text)).toEqual(utf8(text));
  });

  it('gives pieces their text with ▁ as a space, byte-fallback tokens their byte, special tokens none', () => {
    const tokenizer = loadTokenizer(llama());
    expect(Array.from(tokenizer.tokenToBytes(280))).toEqual(utf8(' Hello'));
    expect(Array.from(tokenizer.tokenToBytes(259))).toEqual([32]);
    expect(Array.from(tokenizer.tokenToBytes(271))).toEqual([0xc3, 0xa9]);
    expect(Array.from(tokenizer.tokenToBytes(3 + 0xf0))).toEqual([0xf0]);
    for (const id of [0, 1, 2]) expect(tokenizer.tokenToBytes(id)).toHaveLength(0);
  });

  it('splits special tokens out of the text; ▁ starts only the first text under prepend_scheme "first"', () => {
    // "Hi", </s>, "Hi": the normalizer prepends ▁ to each text between added tokens…
    expect(loadTokenizer(llama()).encode('Hi</s>Hi')).toEqual([1, 259, 260, 267, 2, 259, 260, 267]);
    // …the Metaspace pre-tokenizer with prepend_scheme "first" only to the text that starts the input.
    expect(loadTokenizer(metaspace()).encode('Hi</s>Hi')).toEqual([1, 259, 260, 267, 2, 260, 267]);
  });

  // Older files write Metaspace as { add_prefix_space } without prepend_scheme or split;
  // `tokenizers` then splits the text into words at each ▁ (split defaults to true), and
  // add_prefix_space: false means never prepend. The library does neither.
  const oldMetaspace = (addPrefixSpace: boolean): Json => ({
    ...llama(),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', add_prefix_space: addPrefixSpace },
  });
  it.fails('splits words at ▁ under an old Metaspace pre-tokenizer (the library does not)', () => {
    // `tokenizers`: ▁a ▁ ▁b are three words: ▁ a | ▁ | ▁ <0x62>. The library keeps one word and
    // merges ▁ ▁: ▁ a ▁▁ <0x62>.
    expect(loadTokenizer(oldMetaspace(true)).encode('a  b', { addSpecialTokens: false })).toEqual([
      259, 269, 259, 259, 101,
    ]);
  });
  it.fails('prepends no ▁ under an old Metaspace with add_prefix_space false (the library does)', () => {
    // `tokenizers`: "a" alone; the library reads the missing prepend_scheme as "always": ▁ a.
    expect(loadTokenizer(oldMetaspace(false)).encode('a', { addSpecialTokens: false })).toEqual([269]);
  });

  // transformers' Llama tokenizer class rebuilds the post-processor from tokenizer_config.json's
  // add_bos_token / add_eos_token; the library only reads the one in tokenizer.json.
  it.fails('appends EOS when tokenizer_config.json asks for it (the library does not)', () => {
    const config = {
      tokenizer_class: 'LlamaTokenizer',
      bos_token: '<s>',
      eos_token: '</s>',
      add_bos_token: true,
      add_eos_token: true,
    };
    expect(loadTokenizer(llama(), config).encode('Hi')).toEqual([1, 259, 260, 267, 2]);
  });
});

describe('Llama 3-style byte-level BPE with added special tokens', () => {
  const LLAMA3_SPLIT =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  // Bytes are ids 0–255; Ġworld=256 is in the vocab with no merge that makes it (ignore_merges
  // takes a whole word that is a token as it is); the merges give he=257 ll=258 hell=259
  // hello=260 12=261 123=262 ĊĊ=263 ĠĠ=264; added: <|begin_of_text|>=265 <|end_of_text|>=266
  // (special) and <tool>=267 (not special).
  const json = byteJson();
  json.model.vocab.Ġworld = 256;
  withMerges(json, ['h e', 'l l', 'he ll', 'hell o', '1 2', '12 3', 'Ċ Ċ', 'Ġ Ġ']);
  json.model.ignore_merges = true;
  const bot = { SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } };
  Object.assign(json, {
    added_tokens: [special(265, '<|begin_of_text|>'), special(266, '<|end_of_text|>'), special(267, '<tool>', false)],
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_SPLIT }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: 'TemplateProcessing',
          single: [bot, { Sequence: { id: 'A', type_id: 0 } }],
          pair: [bot, { Sequence: { id: 'A', type_id: 0 } }, bot, { Sequence: { id: 'B', type_id: 1 } }],
          special_tokens: {
            '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [265], tokens: ['<|begin_of_text|>'] },
          },
        },
      ],
    },
  });
  const tokenizer = loadTokenizer(json, { clean_up_tokenization_spaces: true });
  const cases: [string, number[]][] = [
    // Words "hello" " world": whole tokens, taken as they are (ignore_merges).
    ['hello world', [260, 256]],
    // Words "hello" " worlds": " worlds" is no token and no merge applies to it: its 7 bytes.
    ['hello worlds', [260, 32, 119, 111, 114, 108, 100, 115]],
    // "hellos" is no token: h e l l o s → he, ll, hell, hello: hello s.
    ['hellos', [260, 115]],
    // Digits go in threes: "123" (a token) "45".
    ['12345', [262, 52, 53]],
    // Words "a" "\n\n" " " " b": "\n\n" is a token; a run of spaces leaves its last one to "b".
    ['a\n\n  b', [97, 263, 32, 32, 98]],
    // "é" C3 A9 and "😀" F0 9F 98 80: bytes, no merges.
    ['é😀', [0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80]],
  ];

  it('encodes with the split regex, ignore_merges and BOS first', () => {
    expect(tokenizer.vocabSize).toBe(268);
    for (const [text, ids] of cases) {
      expect(tokenizer.encode(text)).toEqual([265, ...ids]);
      expect(tokenizer.encode(text, { addSpecialTokens: false })).toEqual(ids);
      expect(tokenizer.decode([265, ...ids])).toBe(`<|begin_of_text|>${text}`);
      expect(bytesOf(tokenizer, [265, ...ids])).toEqual(utf8(text));
    }
  });

  it('matches added tokens in the text; a non-special one stands for its text', () => {
    const ids = tokenizer.encode('x<tool>y<|end_of_text|>');
    expect(ids).toEqual([265, 120, 267, 121, 266]);
    expect(tokenizer.decode(ids)).toBe('<|begin_of_text|>x<tool>y<|end_of_text|>');
    expect(bytesOf(tokenizer, ids)).toEqual(utf8('x<tool>y'));
  });
});

describe('bad tokenizer files', () => {
  it('are rejected with a message naming what is wrong', () => {
    const base = byteJson();
    expectError(null, /must be a JSON object/);
    expectError('{"model": 1}', /must be a JSON object/);
    expectError({ ...base, model: undefined }, /no "model" section/);
    expectError(
      { ...base, model: { type: 'WordPiece', vocab: {}, unk_token: '[UNK]' } },
      /unsupported model type "WordPiece"/,
    );
    expectError({ ...base, model: { type: 'Unigram', vocab: [] } }, /unsupported model type "Unigram"/);
    expectError({ ...base, model: { vocab: {} } }, /unsupported model type without a "type"/);
    expectError({ ...base, model: { ...base.model, vocab: [] } }, /no "vocab" object/);
    expectError({ ...base, model: { ...base.model, vocab: { a: 1.5 } } }, /vocab entry "a" has invalid id 1.5/);
    expectError({ ...base, model: { ...base.model, merges: undefined } }, /no "merges" array/);
    expectError({ ...base, model: { ...base.model, merges: ['a b c'] } }, /merge 0 "a b c" is not a pair/);
    expectError({ ...base, model: { ...base.model, merges: [['a', 'q']] } }, /token "aq" is not in the vocab/);
    expectError({ ...base, model: { ...base.model, dropout: 0.1 } }, /dropout/);
    expectError({ ...base, model: { ...base.model, continuing_subword_prefix: '##' } }, /continuing_subword_prefix/);
    expectError({ ...base, model: { ...base.model, unk_token: '<unk>' } }, /unk_token "<unk>" is not in the vocab/);
    expectError({ ...base, normalizer: { type: 'Nonesuch' } }, /cannot be used: Unknown Normalizer type: Nonesuch/);
    expectError({ ...base, decoder: { type: 'WordPiece' } }, /unsupported decoder "WordPiece"/);
    expectError({ ...base, decoder: undefined }, /unsupported decoder missing/);
    expectError({ ...base, pre_tokenizer: null }, /a ByteLevel decoder needs a ByteLevel pre_tokenizer, not null/);
    expectError({ ...base, added_tokens: [{ id: 'x', content: 'y' }] }, /added_tokens\[0\]/);
    expectError(base, /tokenizer_config\.json: must be a JSON object/, [1]);
  });

  it('are rejected when text could be dropped for want of a token', () => {
    const base = byteJson();
    const { '\u0100': _, ...noNul } = base.model.vocab;
    expectError({ ...base, model: { ...base.model, vocab: noNul } }, /byte 0x00 has no token \("Ā"\)/);
    const pieces = {
      ...base,
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: false },
      decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: false },
    };
    expectError(pieces, /no unk_token and no byte fallback/);
    expectError({ ...pieces, model: { ...base.model, byte_fallback: true } }, /byte 0x00 has no token \("<0x00>"\)/);
  });

  it('are rejected when the post-processor adds a token the vocab lacks', () => {
    const json = {
      ...byteJson(),
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [],
        special_tokens: {},
      },
    };
    expectError(json, /token "<s>" is not in the vocab or the added tokens/);
  });
});
