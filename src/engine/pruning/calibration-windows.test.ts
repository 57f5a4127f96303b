import { describe, expect, it } from 'vitest';
import type { TextTokens } from '../model/tokenizer';
import { TooShortError, windowAt } from './calibration-windows';

/** A text in pieces of tokens whose byte lengths are given; counts which pieces were encoded. */
function pieces(tokens: number[][], lengthOf: (id: number) => number) {
  const asked = new Set<number>();
  const byteStarts = [0];
  for (const p of tokens) byteStarts.push(byteStarts[byteStarts.length - 1] + p.reduce((a, id) => a + lengthOf(id), 0));
  const text: TextTokens = {
    byteStarts,
    piece: (i) => {
      asked.add(i);
      return tokens[i];
    },
  };
  return { text, asked, all: tokens.flat() };
}

describe('calibration windows', () => {
  // Token id = its byte length (0: a special token such as BOS).
  const len = (id: number) => id;
  const { text, asked, all } = pieces(
    [
      [0, 1, 2, 3],
      [1, 1, 4, 2],
      [3, 3, 1, 0],
    ],
    len,
  );

  it('starts at the token holding the byte and runs on across pieces', () => {
    // Bytes of the tokens: [0,0) [0,1) [1,3) [3,6) | [6,7) [7,8) [8,12) [12,14) | [14,17) [17,20) [20,21) [21,21)
    expect(windowAt(text, len, 4, 3)).toEqual([3, 1, 1]);
    expect(windowAt(text, len, 9, 4)).toEqual([4, 2, 3, 3]);
    // Byte 0: the BOS before the first byte's token is part of the window.
    expect(windowAt(text, len, 0, 2)).toEqual([0, 1]);
    // Every start agrees with the whole stream.
    let start = 0;
    for (let k = 0; k < all.length; k++) {
      if (len(all[k]) === 0) continue;
      let b = 0;
      for (let j = 0; j < k; j++) b += len(all[j]);
      start = k;
      while (start > 0 && len(all[start - 1]) === 0) start--;
      const n = Math.min(3, all.length - start);
      if (start + 3 <= all.length) expect(windowAt(text, len, b, n)).toEqual(all.slice(start, start + n));
    }
  });

  it('encodes only the pieces the window reads', () => {
    asked.clear();
    windowAt(text, len, 7, 2);
    expect([...asked]).toEqual([1]);
  });

  it('takes the last tokens near the end, and refuses a text shorter than the window', () => {
    expect(windowAt(text, len, 18, 5)).toEqual(all.slice(-5));
    expect(windowAt(text, len, 0, all.length)).toEqual(all);
    expect(() => windowAt(text, len, 0, all.length + 1)).toThrow(TooShortError);
  });
});
