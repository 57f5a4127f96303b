import { describe, expect, it } from 'vitest';
import { decodeUtf8, textSet } from './text';

describe('text data', () => {
  it('reads UTF-8 and refuses anything else, saying where', () => {
    expect(decodeUtf8(new TextEncoder().encode('Ünïcode ✓'), 'a.txt')).toBe('Ünïcode ✓');
    expect(() => decodeUtf8(Uint8Array.of(0x41, 0xff, 0x42), 'b.txt')).toThrow(
      'b.txt is not UTF-8 text (byte 1 is 0xff)',
    );
    expect(() => decodeUtf8(Uint8Array.of(0x41, 0xc3), 'c.txt')).toThrow(
      'c.txt is not UTF-8 text (an incomplete character at byte 1)',
    );
    expect(() => textSet(new Uint8Array(0), 'd.txt')).toThrow('d.txt is empty');
    expect(textSet(Uint8Array.of(0x61), 'e.txt')).toEqual({ kind: 'text', bytes: Uint8Array.of(0x61) });
  });
});
