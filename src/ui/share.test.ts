import { describe, expect, it } from 'vitest';
import {
  defaultShareState,
  DRAWN_SIZE,
  encodeShareState,
  inputCode,
  MAX_INPUT_TEXT,
  MAX_LAYERS,
  parseInputCode,
  parseShareHash,
} from './share';

describe('share link', () => {
  it('round-trips', () => {
    const s = {
      ...defaultShareState('gpt-bytes'),
      method: 'wanda' as const,
      sparsity: 0.55,
      axis: 'bytes' as const,
      layer: 2,
    };
    const h = encodeShareState(s);
    expect(h).toMatch(/^#v1\.[A-Za-z0-9_-]+$/);
    expect(parseShareHash(h)).toEqual({ kind: 'ok', state: s });
    expect(parseShareHash('')).toEqual({ kind: 'none' });
  });
  it('refuses corrupt, truncated, tampered and future links', () => {
    const h = encodeShareState({ ...defaultShareState(), sparsity: 0.5 });
    for (const bad of [
      h.slice(0, h.length - 5),
      '#v1.!!!',
      '#hello',
      `#v1.${btoa('{"sparsity":7}')}`,
      `#v1.${btoa('{"method":"<img src=x>"}')}`,
      `#v1.${btoa('{"x":1}')}`,
    ]) {
      expect(parseShareHash(bad).kind).toBe('error');
    }
    const future = parseShareHash('#v9.abc');
    expect(future.kind === 'error' && future.message).toMatch(/newer version/);
  });
});

describe('inspected input in the link', () => {
  const drawn = Uint8Array.from({ length: DRAWN_SIZE * DRAWN_SIZE }, (_, i) => ((i * 7) % 16) * 17);

  it('round-trips eval images, text and drawn images; defaults are left out of the link', () => {
    for (const input of [
      'e:0',
      'e:12',
      't:And God said, ',
      `t:${'é'.repeat(MAX_INPUT_TEXT)}`,
      inputCode({ kind: 'drawn', pixels: drawn }),
    ]) {
      const s = { ...defaultShareState(), input };
      expect(parseShareHash(encodeShareState(s))).toEqual({ kind: 'ok', state: s });
    }
    expect(encodeShareState(defaultShareState())).toBe(encodeShareState({ ...defaultShareState(), input: '' }));
    expect(parseInputCode(inputCode({ kind: 'drawn', pixels: drawn }))).toEqual({ kind: 'drawn', pixels: drawn });
    expect(inputCode({ kind: 'drawn', pixels: drawn })).toHaveLength(2 + 523);
  });

  it('rounds a drawn image to 4 bits a pixel', () => {
    const grey = new Uint8Array(DRAWN_SIZE * DRAWN_SIZE).fill(100); // 100 / 17 = 5.9 → 6 → 102
    const back = parseInputCode(inputCode({ kind: 'drawn', pixels: grey }));
    expect(back.kind === 'drawn' && back.pixels[0]).toBe(102);
  });

  it('old links without the field open on the default input', () => {
    const old = `#v1.${btoa(JSON.stringify({ model: 'vit-fashion', sparsity: 0.5 })).replace(/=+$/, '')}`;
    expect(parseShareHash(old)).toEqual({ kind: 'ok', state: { ...defaultShareState(), sparsity: 0.5 } });
  });

  it('refuses bad inputs with a message that names the field', () => {
    const code = inputCode({ kind: 'drawn', pixels: drawn }).slice(2);
    const bad: [unknown, RegExp][] = [
      [7, /"input" must be a string/],
      ['x:1', /must be empty or start with e:/],
      ['e:-1', /eval image must be an index/],
      ['e:01', /eval image must be an index/],
      ['e:1.5', /eval image must be an index/],
      ['t:', /1 to 256 characters/],
      [`t:${'a'.repeat(MAX_INPUT_TEXT + 1)}`, /1 to 256 characters/],
      [`d:${code.slice(1)}`, /drawn image must be 28×28/],
      [`d:${code}A`, /drawn image must be 28×28/],
      [`d:${code.slice(0, -1)}B`, /drawn image must be 28×28/], // non-canonical trailing bits
      [`d:${code.slice(0, -2)}+/A`, /drawn image must be 28×28/],
    ];
    for (const [input, message] of bad) {
      const r = parseShareHash(encodeShareState({ ...defaultShareState(), input: input as string }));
      expect(r.kind === 'error' && r.message, String(input)).toMatch(message);
    }
  });
});

describe('per-layer sparsity in the link', () => {
  const link = (fields: Record<string, unknown>) =>
    `#v1.${btoa(JSON.stringify({ model: 'vit-fashion', ...fields })).replace(/=+$/, '')}`;

  it('round-trips free per-layer values; locked (null) is the default and left out', () => {
    const s = { ...defaultShareState('gpt-bytes'), sparsity: 0.4, layerSparsity: [0.9, 0.25, 0, 0.95] };
    expect(parseShareHash(encodeShareState(s))).toEqual({ kind: 'ok', state: s });
    expect(encodeShareState({ ...defaultShareState(), layerSparsity: null })).toBe(
      encodeShareState(defaultShareState()),
    );
    const one = { ...defaultShareState(), layerSparsity: Array(MAX_LAYERS).fill(0.5) };
    expect(parseShareHash(encodeShareState(one))).toEqual({ kind: 'ok', state: one });
  });

  it('old links without the field open locked', () => {
    expect(parseShareHash(link({ sparsity: 0.5 }))).toEqual({
      kind: 'ok',
      state: { ...defaultShareState(), sparsity: 0.5 },
    });
  });

  it('refuses bad values with a message that names the field', () => {
    const bad: [unknown, RegExp][] = [
      [[], /"layerSparsity" must be null or a list of 1 to 64 numbers/],
      [Array(MAX_LAYERS + 1).fill(0.1), /list of 1 to 64/],
      ['0.5,0.5', /list of 1 to 64/],
      [{ 0: 0.5 }, /list of 1 to 64/],
      [0.5, /list of 1 to 64/],
      [[0.5, 0.96], /"layerSparsity\[1\]" must be a number from 0 to 0.95/],
      [[-0.1], /"layerSparsity\[0\]" must be a number/],
      [[0.5, '0.5'], /"layerSparsity\[1\]"/],
      [[0.5, null], /"layerSparsity\[1\]"/],
    ];
    for (const [layerSparsity, message] of bad) {
      const r = parseShareHash(link({ layerSparsity }));
      expect(r.kind === 'error' && r.message, JSON.stringify(layerSparsity)).toMatch(message);
    }
  });
});
