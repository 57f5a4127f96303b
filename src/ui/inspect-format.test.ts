import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { queryKey, strongest, tokenName } from './inspect-format';

describe('inspection words', () => {
  it('names CLS, patches by row and column, and bytes by position', () => {
    const image = { kind: 'image' as const, pixels: new Uint8Array(784), size: 28, channels: 1, label: null };
    expect(tokenName(image, 0, 17)).toBe('CLS');
    expect(tokenName(image, 1, 17)).toBe('patch (1, 1)');
    expect(tokenName(image, 5, 17)).toBe('patch (2, 1)');
    expect(tokenName(image, 16, 17)).toBe('patch (4, 4)');
    const text = {
      kind: 'text' as const,
      tokens: [
        { id: 65, text: 'A', display: 'A' },
        { id: 32, text: ' ', display: '␣' },
      ],
      croppedTokens: 0,
    };
    expect(tokenName(text, 1, 2)).toBe('“␣” #2');
  });
  it('lists the strongest entries, ties by position', () => {
    expect(strongest([0.1, 0.5, 0.2, 0.5], 3)).toEqual([
      { index: 1, value: 0.5 },
      { index: 3, value: 0.5 },
      { index: 2, value: 0.2 },
    ]);
    expect(queryKey(7, 3)).toEqual({ query: 2, key: 1 });
  });
  it('strongest is the first n of the sorted order, for any values and n', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 })), fc.nat({ max: 8 }), (ints, n) => {
        const values = ints.map((v) => v / 4);
        const sorted = values
          .map((value, index) => ({ index, value }))
          .sort((a, b) => b.value - a.value || a.index - b.index);
        expect(strongest(values, n)).toEqual(sorted.slice(0, n));
      }),
    );
  });
});
