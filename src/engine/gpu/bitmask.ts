// Bitmasks as the kernels write them: bit i of the flattened tensor is bit (i mod 32) of u32 word
// ⌊i / 32⌋; bits past the end are 0. The engine's masks elsewhere are 0/1 Uint8Arrays.

export const maskWords = (n: number): number => Math.ceil(n / 32);

/** 0/1 mask of the first n bits. */
export function unpackBits(words: Uint32Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (words[i >>> 5] >>> (i & 31)) & 1;
  return out;
}

/** Packs a 0/1 mask into words (the reference for what a kernel should write). */
export function packBits(mask: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(maskWords(mask.length));
  for (let i = 0; i < mask.length; i++) if (mask[i]) out[i >>> 5] |= 1 << (i & 31);
  return out;
}
