// The CLI on the user's own data (--eval / --calib as a text file or a folder of images, the
// evaluation windows) and predict, driven in-process on tiny model directories.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encode as encodePng } from 'fast-png';
import { runCli, tinyGptFiles, writeFolder } from './test-support';
import { HELP } from './help';
import { serializeWeights } from '../engine/model/checkpoint';
import { byteLevelTokenizerJson } from '../engine/model/tokenizer';
import { referenceForward } from '../engine/model/reference';
import {
  randomHostWeights,
  tinyGpt2,
  tinyLlama,
  tinyVit,
  TINY_LLAMA_CONFIG,
  TINY_VIT_CONFIG,
} from '../engine/model/tiny-models';
import { writeSafetensors } from '../engine/io/safetensors';

const tmp = mkdtempSync(join(tmpdir(), 'cli-data-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TEXT = 'And God said, Let there be light: and there was light. And God saw the light, that it was good. ';
const gptConfig = { ...tinyGpt2(), vocabSize: 256 };
const gptHost = randomHostWeights(gptConfig, 9);

/** The tiny GPT-2 whose weights are gptHost (the same seed). */
function gptDir(name: string): string {
  return writeFolder(join(tmp, name), tinyGptFiles());
}

const vitConfig = tinyVit(); // 2 channels, 8×8, labels a…e
const vitHost = randomHostWeights(vitConfig, 4);

function vitDir(name: string, preprocessor?: object): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(TINY_VIT_CONFIG));
  writeFileSync(join(dir, 'model.safetensors'), serializeWeights(vitHost));
  if (preprocessor) writeFileSync(join(dir, 'preprocessor_config.json'), JSON.stringify(preprocessor));
  return dir;
}

/** An 8×8 grayscale image, distinct per seed. */
const grayPixels = (seed: number) => Uint8Array.from({ length: 64 }, (_, i) => (i * 29 + seed * 71) % 256);
const grayPng = (seed: number) => encodePng({ width: 8, height: 8, channels: 1, depth: 8, data: grayPixels(seed) });

/** A folder of class subfolders, two images in each of the classes given. */
function imageFolder(name: string, classes: string[]): string {
  const dir = join(tmp, name);
  classes.forEach((label, k) => {
    mkdirSync(join(dir, label), { recursive: true });
    for (const j of [0, 1]) writeFileSync(join(dir, label, `${j}.png`), grayPng(k * 2 + j));
  });
  return dir;
}

const run = runCli;

const softmax = (row: number[]) => {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

const gpt = gptDir('gpt');
const textFile = join(tmp, 'text.txt');
writeFileSync(textFile, TEXT.repeat(3));

describe('--eval and --calib with the user’s data', () => {
  it('a text file is measured in windows of the context, or --seq-len, --stride apart, --eval-count of them', async () => {
    const base = ['eval', '--model', gpt, '--eval', textFile, '--json', '--quiet'];
    const metric = async (...more: string[]) => {
      const r = await run([...base, ...more]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).metric;
    };
    const bytes = TEXT.length * 3; // 294 bytes of ASCII = 294 tokens
    const whole = await metric();
    expect(whole.tokens).toBe(Math.floor((bytes - 1) / 16) * 16);
    // Half-window stride: the first window's 16 targets, then 8 new ones per window.
    const strided = await metric('--stride', '8');
    expect(strided.tokens).toBe(16 + 8 * (Math.floor((bytes - 1 - 16) / 8) + 1 - 1));
    expect((await metric('--eval-count', '3')).tokens).toBe(48);
    expect((await metric('--seq-len', '5', '--eval-count', '2')).tokens).toBe(10);
    const r = await run([...base, '--stride', '8', '--eval-count', '2']);
    expect(JSON.parse(r.stdout).evalData).toEqual({ path: textFile, context: 16, stride: 8, windows: 2 });
    // A byte model: bits per byte is the loss in bits.
    expect(whole.bitsPerByte).toBeCloseTo(whole.loss / Math.LN2, 6);
  });

  it('a text file calibrates; a folder of class images evaluates and calibrates an image model', async () => {
    let r = await run([
      'prune',
      '--model',
      gpt,
      '--method',
      'wanda',
      '--sparsity',
      '0.5',
      '--calib',
      textFile,
      '--eval',
      textFile,
    ]);
    expect(r.code, r.stderr).toBe(0);
    r = await run([
      'prune',
      '--model',
      gpt,
      '--method',
      'magnitude',
      '--sparsity',
      '0.5',
      '--eval',
      textFile,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).metric.kind).toBe('lm');

    const vit = vitDir('vit');
    const folder = imageFolder('images', ['a', 'c', 'e']);
    r = await run(['eval', '--model', vit, '--eval', folder, '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const fromFolder = JSON.parse(r.stdout).metric;
    expect(fromFolder.count).toBe(6);
    // The same images as a .safetensors set give the same metric.
    const pixels = new Uint8Array(6 * 128);
    [0, 1, 2, 3, 4, 5].forEach((s) => {
      pixels.set(grayPixels(s), s * 128);
      pixels.set(grayPixels(s), s * 128 + 64); // grayscale repeated over the model's 2 channels
    });
    const set = join(tmp, 'same.safetensors');
    writeFileSync(
      set,
      writeSafetensors({
        images: { dtype: 'U8', shape: [6, 2, 8, 8], data: pixels },
        labels: { dtype: 'U8', shape: [6], data: Uint8Array.of(0, 0, 2, 2, 4, 4) },
      }),
    );
    r = await run(['eval', '--model', vit, '--eval', set, '--json', '--quiet']);
    expect(JSON.parse(r.stdout).metric.loss).toBeCloseTo(fromFolder.loss, 5);
    expect((await run(['eval', '--model', vit, '--eval', folder, '--eval-count', '4', '--json'])).stdout).toMatch(
      /"count": 4/,
    );
    r = await run([
      'prune',
      '--model',
      vit,
      '--method',
      'wanda',
      '--sparsity',
      '0.5',
      '--calib',
      folder,
      '--eval',
      set,
    ]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('bad data: one error line naming the path', async () => {
    const vit = vitDir('vit-bad');
    const binary = join(tmp, 'binary.bin');
    writeFileSync(binary, Uint8Array.of(0x41, 0x42, 0xff, 0xfe));
    const short = join(tmp, 'short.txt');
    writeFileSync(short, 'Let there be');
    const cases: [string[], number, RegExp][] = [
      [
        ['eval', '--model', gpt, '--eval', join(tmp, 'nowhere.txt')],
        1,
        /evaluation file .*nowhere\.txt does not exist/,
      ],
      [['eval', '--model', gpt, '--eval', tmp], 1, /is a directory, but the model reads text/],
      [['eval', '--model', gpt, '--eval', binary], 1, /binary\.bin is not UTF-8 text \(byte 2 is 0xff\)/],
      [
        ['eval', '--model', gpt, '--eval', short],
        1,
        /short\.txt is too short: it encodes to 12 tokens, and one window needs 17/,
      ],
      [
        ['eval', '--model', gpt, '--eval', textFile, '--seq-len', '17'],
        1,
        /17 tokens does not fit the model's context of 16/,
      ],
      [
        ['prune', '--model', gpt, '--method', 'wanda', '--sparsity', '0.5', '--calib', short, '--eval', textFile],
        1,
        /short\.txt is too short to calibrate on: it encodes to 12 tokens/,
      ],
      [['eval', '--model', gpt], 0, /./],
      [['eval', '--model', gpt, '--stride', '4'], 1, /has no eval\.safetensors: give the evaluation data with --eval/],
      [
        ['sweep', '--model', gpt, '--method', 'magnitude', '--sparsities', '0.5'],
        1,
        /gpt has no eval\.safetensors: give/,
      ],
      [['eval', '--model', vit, '--eval', textFile], 1, /text\.txt is a file, but the model classifies images/],
      [
        ['eval', '--model', vit, '--eval', imageFolder('wrong', ['a', 'zebra'])],
        1,
        /wrong\/zebra: "zebra" is not one of the model's labels/,
      ],
      [['eval', '--model', vit, '--eval', join(tmp, 'wrong', 'a')], 1, /images go in a subfolder named by their class/],
      [
        ['eval', '--model', vit, '--eval', imageFolder('images2', ['b']), '--stride', '2'],
        2,
        /--stride applies to text models only/,
      ],
      [
        [
          'eval',
          '--model',
          vitDir('vit-bad-pre', { image_mean: [0.5, 0.5, 0.5] }),
          '--eval',
          imageFolder('images3', ['b']),
        ],
        1,
        /preprocessor_config\.json: image_mean has 3 values; the model has 2 channels/,
      ],
    ];
    for (const [argv, code, message] of cases) {
      const r = await run([...argv, '--quiet']);
      expect(r.code, argv.join(' ')).toBe(code);
      if (code) {
        expect(r.stderr, argv.join(' ')).toMatch(message);
        expect(r.stderr.trim().split('\n'), argv.join(' ')).toHaveLength(1);
      }
    }
  });
});

describe('predict', () => {
  it('a language model: the next-token distribution after the encoded text, as the forward pass gives it', async () => {
    const r = await run(['predict', '--model', gpt, '--text', 'Let there', '--top', '4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const ids = Array.from(new TextEncoder().encode('Let there'));
    expect(out.ids).toEqual(ids);
    const logits = referenceForward(gptConfig, gptHost, ids).logits;
    const probs = softmax(logits[logits.length - 1]);
    const order = probs.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]);
    expect(out.top).toHaveLength(4);
    out.top.forEach((t: { id: number; token: string; prob: number }, k: number) => {
      expect(t.id).toBe(order[k][1]);
      expect(t.prob).toBeCloseTo(order[k][0], 5);
      expect(t.token).toBe(new TextDecoder().decode(Uint8Array.of(t.id)));
    });
    const table = await run(['predict', '--model', gpt, '--text', 'Let there', '--quiet']);
    expect(table.stdout).toMatch(/^input ids \(9\): 76 101 116/);
    expect(table.stdout.trim().split('\n')).toHaveLength(3 + 5); // ids, blank, header, 5 rows
  });

  it('a Llama whose tokenizer adds <s>: the ids start with it; bits per byte counts the text’s bytes', async () => {
    const config = tinyLlama({ vocab_size: 258 });
    const host = randomHostWeights(config, 5);
    const dir = join(tmp, 'llama');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...TINY_LLAMA_CONFIG, vocab_size: 258 }));
    writeFileSync(join(dir, 'model.safetensors'), serializeWeights(host));
    const tokenizer = byteLevelTokenizerJson() as Record<string, unknown>;
    const bos = { SpecialToken: { id: '<s>', type_id: 0 } };
    const special = (id: number, content: string) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    });
    tokenizer.added_tokens = [special(256, '<s>'), special(257, '</s>')];
    tokenizer.post_processor = {
      type: 'TemplateProcessing',
      single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [256], tokens: ['<s>'] } },
    };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
    const r = await run(['predict', '--model', dir, '--text', 'Let', '--top', '3', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ids).toEqual([256, 76, 101, 116]);
    const logits = referenceForward(config, host, out.ids).logits;
    const probs = softmax(logits[logits.length - 1]);
    for (const t of out.top) expect(t.prob).toBeCloseTo(probs[t.id], 5);
    expect(out.top[0].prob).toBeCloseTo(Math.max(...probs), 5);
    // 1 + 294 tokens; windows of 32: 9 windows score 288 targets, each one byte of the text.
    const e = await run(['eval', '--model', dir, '--eval', textFile, '--json', '--quiet']);
    expect(e.code, e.stderr).toBe(0);
    const m = JSON.parse(e.stdout).metric;
    expect(m.tokens).toBe(Math.floor(294 / 32) * 32);
    expect(m.bitsPerByte).toBeCloseTo(m.loss / Math.LN2, 6);
  });

  it('an image model: the class probabilities of the preprocessed file', async () => {
    const mean = [0.2, 0.7];
    const std = [0.3, 0.4];
    const vit = vitDir('vit-pre', { image_mean: mean, image_std: std, size: { height: 8, width: 8 } });
    const file = join(tmp, 'one.png');
    writeFileSync(file, grayPng(3));
    const r = await run(['predict', '--model', vit, '--image', file, '--top', '5', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const g = grayPixels(3);
    const x = new Float32Array(128);
    for (let c = 0; c < 2; c++) for (let i = 0; i < 64; i++) x[c * 64 + i] = (g[i] / 255 - mean[c]) / std[c];
    const probs = softmax(referenceForward(vitConfig, vitHost, x).logits[0]);
    const { top } = JSON.parse(r.stdout);
    expect(top).toHaveLength(5);
    for (const t of top) {
      expect(t.label).toBe(vitConfig.labels[t.index]);
      expect(t.prob).toBeCloseTo(probs[t.index], 5);
    }
    expect(top[0].prob).toBeCloseTo(Math.max(...probs), 5);
    const table = await run(['predict', '--model', vit, '--image', file, '--top', '2', '--quiet']);
    expect(table.stdout).toMatch(/^rank +prob +index +label\n +1 +[\d.]+% +\d +[a-e]\n +2 /);
  });

  it('wrong or missing input: exit 2; a missing image: exit 1; --help lists it', async () => {
    const vit = vitDir('vit-p');
    expect((await run(['predict', '--model', vit, '--text', 'hi'])).stderr).toMatch(
      /the model classifies images; give --image/,
    );
    expect((await run(['predict', '--model', gpt, '--image', 'x.png'])).code).toBe(2);
    expect((await run(['predict', '--model', gpt])).stderr).toMatch(/--text <string> or --image <file> is required/);
    expect((await run(['predict', '--model', gpt, '--text', 'a', '--image', 'b'])).code).toBe(2);
    expect((await run(['predict', '--model', gpt, '--text', 'a', '--method', 'wanda'])).code).toBe(2);
    const missing = await run(['predict', '--model', vit, '--image', join(tmp, 'none.png'), '--quiet']);
    expect([missing.code, missing.stderr]).toEqual([1, `error: image ${join(tmp, 'none.png')} does not exist\n`]);
    expect(HELP.predict).toMatch(/--text <string>/);
    expect(HELP.predict).toMatch(/--top <k> +how many .*\(default 5\)/);
    expect(HELP.eval).toMatch(/--stride <n>[\s\S]*default the\s+window length/);
  });
});
