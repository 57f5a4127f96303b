// IEEE half (f16) and bfloat16 (bf16) <-> float32 conversion, on bit patterns held in
// plain numbers (0..0xffff) and on arrays (Uint16Array of bit patterns <-> Float32Array).
// Float32 -> 16-bit conversions round to nearest, ties to even.

// Scratch views to reinterpret float32 bits. Both views use the platform's byte order,
// so the reinterpretation is correct on any platform.
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

function f32Bits(value: number): number {
  scratchF32[0] = value;
  return scratchU32[0];
}

/** Shifts `value` right by `shift` (1..24) bits, rounding to nearest, ties to even. */
function shiftRoundEven(value: number, shift: number): number {
  const q = value >>> shift;
  const rem = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rem > half || (rem === half && (q & 1) === 1) ? q + 1 : q;
}

/** float32 (any JS number, first rounded to float32) -> f16 bit pattern. */
export function f32ToF16(value: number): number {
  const x = f32Bits(value);
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0); // Inf / quiet NaN
  const e = exp - 127 + 15; // f16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00; // too large: Inf
  if (e >= 1) {
    // Normal. A rounding carry out of the mantissa correctly bumps the exponent (up to Inf).
    return sign | shiftRoundEven((e << 23) | mant, 13);
  }
  // Subnormal f16 (value = m * 2^-24): shift the full 24-bit significand into place.
  // Shifts beyond 24 leave less than half of the smallest subnormal: signed zero.
  const shift = 14 - e;
  return shift > 24 ? sign : sign | shiftRoundEven(0x800000 | mant, shift);
}

/** f16 bit pattern -> number (exactly representable as float32). */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero / subnormal (keeps -0)
  if (exp === 0x1f) {
    if (mant === 0) return sign * Infinity;
    // NaN with its sign and payload in the float32's top mantissa bits, so that f32ToF16 gives a
    // quiet NaN back bit for bit (an export writes a half-precision checkpoint's NaNs unchanged).
    scratchU32[0] = ((bits & 0x8000) << 16) | 0x7f800000 | (mant << 13);
    return scratchF32[0];
  }
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** float32 -> bf16 bit pattern (the top 16 bits of the float32, rounded). NaN stays NaN. */
export function f32ToBf16(value: number): number {
  const x = f32Bits(value);
  // Plain rounding could carry a NaN with a low-only payload into Inf; force a quiet NaN.
  if ((x & 0x7fffffff) > 0x7f800000) return (x >>> 16) | 0x40;
  return (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}

/** bf16 bit pattern -> number. */
export function bf16ToF32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0];
}

export function f16ArrayToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16ToF32(bits[i]);
  return out;
}

export function f32ArrayToF16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16(values[i]);
  return out;
}

export function bf16ArrayToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bf16ToF32(bits[i]);
  return out;
}

export function f32ArrayToBf16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToBf16(values[i]);
  return out;
}
