// Calibration windows cut from a long text without encoding all of it: a window starts at the token
// that holds a byte drawn at random, and only the pieces of the text (tokenizer.ts's LONG_TEXT)
// that its tokens come from are encoded. A few windows of a calibration text of megabytes cost
// milliseconds instead of seconds, and the tokens are those encode(text) gives. With one token per
// byte (gpt-bytes) a window at byte b is the one at token b.
import type { TextTokens, Tokenizer } from '../model/tokenizer';

export class TooShortError extends Error {
  constructor(readonly tokens: number) {
    super(`the text has ${tokens} tokens`);
  }
}

/**
 * `n` consecutive tokens of the text from the token holding byte `at` (zero-byte special tokens
 * just before it included, so a window at byte 0 holds a BOS); the text's last `n` where fewer
 * follow. Throws TooShortError when the whole text has fewer than `n`.
 */
export function windowAt(text: TextTokens, byteLength: (id: number) => number, at: number, n: number): number[] {
  const pieces = text.byteStarts.length - 1;
  let p = 0;
  while (p < pieces - 1 && text.byteStarts[p + 1] <= at) p++;
  const ids = text.piece(p);
  let k = 0;
  let end = text.byteStarts[p];
  while (k < ids.length && end + byteLength(ids[k]) <= at) end += byteLength(ids[k++]);
  while (k > 0 && byteLength(ids[k - 1]) === 0) k--;
  const out: number[] = [];
  for (let i = p; i < pieces && out.length < n; i++, k = 0) {
    const piece = text.piece(i);
    for (let j = k; j < piece.length && out.length < n; j++) out.push(piece[j]);
  }
  if (out.length === n) return out;
  // Too near the end: the last n tokens, gathered from the last piece back.
  const tail: number[][] = [];
  let count = 0;
  for (let i = pieces - 1; i >= 0 && count < n; i--) {
    const piece = text.piece(i);
    tail.unshift(piece);
    count += piece.length;
  }
  if (count < n) throw new TooShortError(count);
  return tail.flat().slice(count - n);
}

/** Bytes of each token id, looked up once per id. */
export function byteLengths(tokenizer: Pick<Tokenizer, 'tokenToBytes' | 'vocabSize'>): (id: number) => number {
  const lengths = new Int32Array(tokenizer.vocabSize).fill(-1);
  return (id) => {
    if (lengths[id] < 0) lengths[id] = tokenizer.tokenToBytes(id).length;
    return lengths[id];
  };
}
