// The user's own text as an evaluation or calibration set: the file's bytes, checked to be UTF-8
// (bits per byte counts these bytes, and the tokenizer reads them as text).
import { DataSetError, type TextSet } from './datasets';

/** The text of UTF-8 bytes; anything else is refused, naming `name`. A leading BOM is dropped. */
export function decodeUtf8(bytes: Uint8Array, name: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataSetError(`${name} is not UTF-8 text (${invalidAt(bytes)})`);
  }
}

/** Where the first byte that cannot start or continue a UTF-8 sequence is, in words. */
function invalidAt(b: Uint8Array): string {
  for (let i = 0; i < b.length; ) {
    const x = b[i];
    const n = x < 0x80 ? 1 : x >= 0xc2 && x < 0xe0 ? 2 : x >= 0xe0 && x < 0xf0 ? 3 : x >= 0xf0 && x < 0xf5 ? 4 : 0;
    if (n === 0) return `byte ${i} is 0x${x.toString(16).padStart(2, '0')}`;
    for (let k = 1; k < n; k++)
      if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return `an incomplete character at byte ${i}`;
    i += n;
  }
  return 'an invalid sequence';
}

/** A text set from a UTF-8 file's bytes; empty or not UTF-8 is refused, naming `name`. */
export function textSet(bytes: Uint8Array, name: string): TextSet {
  if (bytes.length === 0) throw new DataSetError(`${name} is empty`);
  decodeUtf8(bytes, name);
  return { kind: 'text', bytes };
}
