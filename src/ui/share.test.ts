import { describe, expect, it } from 'vitest';
import { defaultShareState, encodeShareState, parseShareHash } from './share';

describe('share link', () => {
  it('round-trips', () => {
    const s = { ...defaultShareState('gpt-bytes'), method: 'wanda' as const, sparsity: 0.55, axis: 'bytes' as const, layer: 2 };
    const h = encodeShareState(s);
    expect(h).toMatch(/^#v1\.[A-Za-z0-9_-]+$/);
    expect(parseShareHash(h)).toEqual({ kind: 'ok', state: s });
    expect(parseShareHash('')).toEqual({ kind: 'none' });
  });
  it('refuses corrupt, truncated, tampered and future links', () => {
    const h = encodeShareState({ ...defaultShareState(), sparsity: 0.5 });
    for (const bad of [h.slice(0, h.length - 5), '#v1.!!!', '#hello', '#v1.' + btoa('{"sparsity":7}'), '#v1.' + btoa('{"method":"<img src=x>"}'), '#v1.' + btoa('{"x":1}')]) {
      expect(parseShareHash(bad).kind).toBe('error');
    }
    const future = parseShareHash('#v9.abc');
    expect(future.kind === 'error' && future.message).toMatch(/newer version/);
  });
});
