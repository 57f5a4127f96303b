import { describe, it, expect } from 'vitest';
import {
  bf16ArrayToF32,
  bf16ToF32,
  f16ArrayToF32,
  f16ToF32,
  f32ArrayToBf16,
  f32ArrayToF16,
  f32ToBf16,
  f32ToF16,
} from './half';
import {
  readSafetensors,
  readSafetensorsFile,
  readSafetensorsHeader,
  SafetensorsError,
  tensorByteSize,
  writeSafetensors,
  type TensorEntry,
} from './safetensors';

/** Builds a raw file from a header (object or literal text) and a data buffer, no padding. */
function buildFile(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function expectError(bytes: Uint8Array, message: RegExp): void {
  let error: unknown;
  try {
    readSafetensors(bytes);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SafetensorsError);
  expect((error as Error).message).toMatch(message);
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('half', () => {
  it('decodes known f16 values', () => {
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc100)).toBe(-2.5);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(f16ToF32(0x0400)).toBe(2 ** -14); // smallest normal
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(f16ToF32(0x7e00)).toBeNaN();
    expect(f16ToF32(0x8000)).toBe(-0);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
  });

  it('encodes f16 with round-to-nearest-even', () => {
    for (const bits of [0x0000, 0x8000, 0x3c00, 0xc100, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00]) {
      expect(f32ToF16(f16ToF32(bits))).toBe(bits);
    }
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie -> even (down)
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(f32ToF16(65519)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00); // tie rounds to even, which is Inf
    expect(f32ToF16(1e6)).toBe(0x7c00);
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // half the smallest subnormal: tie -> 0
    expect(f32ToF16(-(2 ** -25) * 1.5)).toBe(0x8001);
    expect(f32ToF16(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 subnormal units -> 2
    expect(f32ToF16(1e-10)).toBe(0x0000);
    expect(f32ToF16(2 ** -14 - 2 ** -26)).toBe(0x0400); // largest subnormal rounds up into normal
    expect(f16ToF32(f32ToF16(NaN))).toBeNaN();
  });

  it('decodes and encodes known bf16 values', () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc020)).toBe(-2.5);
    expect(bf16ToF32(0x0001)).toBe(2 ** -133); // smallest subnormal
    expect(bf16ToF32(0x7f80)).toBe(Infinity);
    expect(bf16ToF32(0xff80)).toBe(-Infinity);
    expect(bf16ToF32(0x7fc0)).toBeNaN();
    expect(Object.is(bf16ToF32(0x8000), -0)).toBe(true);
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(f32ToBf16(-2.5)).toBe(0xc020);
    expect(f32ToBf16(-0)).toBe(0x8000);
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie -> even (down)
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie -> even (up)
    expect(f32ToBf16(3.4028234663852886e38)).toBe(0x7f80); // float32 max rounds to Inf
    // A NaN whose payload sits only in the low bits must not round into Inf.
    const nan = new DataView(new ArrayBuffer(4));
    nan.setUint32(0, 0x7f800001);
    expect(bf16ToF32(f32ToBf16(nan.getFloat32(0)))).toBeNaN();
  });

  it('round-trips every finite f16 and rounds every midpoint to even', () => {
    let wrong = 0;
    for (let bits = 0; bits < 0x7bff; bits++) {
      const v = f16ToF32(bits);
      const mid = (v + f16ToF32(bits + 1)) / 2; // exact: f16 values have 11 significant bits
      if (f32ToF16(v) !== bits || f32ToF16(-v) !== (bits | 0x8000)) wrong++;
      if (f32ToF16(mid) !== (bits & 1 ? bits + 1 : bits)) wrong++;
    }
    expect(wrong).toBe(0);
  });

  it('converts arrays', () => {
    const values = new Float32Array([1, -2.5, 65504, 0.5]);
    expect(Array.from(f32ArrayToF16(values))).toEqual([0x3c00, 0xc100, 0x7bff, 0x3800]);
    expect(Array.from(f32ArrayToBf16(values))).toEqual([0x3f80, 0xc020, 0x4780, 0x3f00]); // 65504 rounds up to 65536 in bf16
    expect(Array.from(f16ArrayToF32(new Uint16Array([0x3c00, 0xc100, 0x7bff])))).toEqual([1, -2.5, 65504]);
    expect(Array.from(bf16ArrayToF32(new Uint16Array([0x3f80, 0xc020, 0x4780])))).toEqual([1, -2.5, 65536]);
  });
});

describe('readSafetensors', () => {
  // Header text: 107 bytes, padded with 5 spaces to 112 = 0x70.
  const header =
    '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}';
  const handBuilt = new Uint8Array([
    0x70,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ...Array.from(header, (c) => c.charCodeAt(0)),
    0x20,
    0x20,
    0x20,
    0x20,
    0x20,
    0x00,
    0x00,
    0x80,
    0x3f, // 1.0f
    0x00,
    0x00,
    0x20,
    0xc0, // -2.5f
    0xfd,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff, // -3 as i64
  ]);

  it('reads a hand-built file', () => {
    expect(header.length).toBe(107);
    const file = readSafetensors(handBuilt);
    expect(file.metadata).toEqual({});
    expect(file.tensors.size).toBe(2);
    const a = file.tensors.get('a')!;
    expect(a.dtype).toBe('F32');
    expect(a.shape).toEqual([2]);
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(Array.from(a.data)).toEqual([1, -2.5]);
    const b = file.tensors.get('b')!;
    expect(b).toEqual({ dtype: 'I64', shape: [], data: new Int32Array([-3]) });
  });

  it('writes the same tensors byte for byte', () => {
    const bytes = writeSafetensors({
      b: { dtype: 'I64', shape: [], data: new Int32Array([-3]) },
      a: { dtype: 'F32', shape: [2], data: new Float32Array([1, -2.5]) },
    });
    expect(bytes).toEqual(handBuilt);
  });

  it('reads from a view at an odd byteOffset', () => {
    const backing = new Uint8Array(handBuilt.length + 6);
    backing.set(handBuilt, 3);
    const file = readSafetensors(backing.subarray(3, 3 + handBuilt.length));
    expect(Array.from(file.tensors.get('a')!.data)).toEqual([1, -2.5]);
    expect(Array.from(file.tensors.get('b')!.data)).toEqual([-3]);
  });

  it('decodes F16 and BF16 to Float32Array keeping the on-disk dtype', () => {
    const f16 = [0x3c00, 0xc100, 0x7bff, 0x0001, 0x7c00, 0xfc00, 0x7e00, 0x8000];
    const bf16 = [0x3f80, 0xc020, 0x0001, 0x7f80, 0xff80, 0x7fc0, 0x8000];
    const data = new Uint8Array(2 * (f16.length + bf16.length));
    const view = new DataView(data.buffer);
    [...f16, ...bf16].forEach((bits, i) => {
      view.setUint16(2 * i, bits, true);
    });
    const file = readSafetensors(
      buildFile(
        {
          h: { dtype: 'F16', shape: [f16.length], data_offsets: [0, 16] },
          b: { dtype: 'BF16', shape: [bf16.length], data_offsets: [16, 30] },
        },
        data,
      ),
    );
    const h = file.tensors.get('h')!;
    expect(h.dtype).toBe('F16');
    expect(h.data).toBeInstanceOf(Float32Array);
    expect(Array.from(h.data)).toEqual([1, -2.5, 65504, 2 ** -24, Infinity, -Infinity, NaN, -0]);
    expect(Object.is(h.data[7], -0)).toBe(true);
    const b = file.tensors.get('b')!;
    expect(b.dtype).toBe('BF16');
    expect(Array.from(b.data)).toEqual([1, -2.5, 2 ** -133, Infinity, -Infinity, NaN, -0]);
  });

  it('allows empty tensors, scalars and metadata', () => {
    const file = readSafetensors(
      buildFile(
        {
          __metadata__: { format: 'pt' },
          e: { dtype: 'F32', shape: [3, 0], data_offsets: [1, 1] },
          s: { dtype: 'U8', shape: [], data_offsets: [0, 1] },
        },
        new Uint8Array([7]),
      ),
    );
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(file.tensors.get('e')).toEqual({ dtype: 'F32', shape: [3, 0], data: new Float32Array(0) });
    expect(file.tensors.get('s')).toEqual({ dtype: 'U8', shape: [], data: new Uint8Array([7]) });
  });

  it('reads a "-0" in a shape or offsets as 0 (JSON parses it to −0)', () => {
    const bytes = buildFile('{"e":{"dtype":"F64","shape":[-0,2],"data_offsets":[-0,-0]}}');
    const [info] = readSafetensorsHeader(bytes).tensors;
    for (const v of [...info.shape, info.begin, info.end]) expect(Object.is(v, -0), String(v)).toBe(false);
    expect(readSafetensors(bytes).tensors.get('e')).toEqual({ dtype: 'F64', shape: [0, 2], data: new Float32Array(0) });
  });

  describe('rejects', () => {
    const f32 = (offsets: unknown, shape: unknown = [2]) => ({ dtype: 'F32', shape, data_offsets: offsets });
    const data8 = new Uint8Array(8);

    it('a file shorter than 8 bytes', () => expectError(new Uint8Array(5), /shorter than/));
    it('a header length larger than the file', () => {
      const bytes = buildFile({ w: f32([0, 8]) }, data8);
      new DataView(bytes.buffer).setUint32(0, 1000, true);
      expectError(bytes, /header length 1000 exceeds/);
    });
    it('an absurd header length', () => {
      const bytes = buildFile({});
      new DataView(bytes.buffer).setUint32(4, 1, true); // 2^32 + 2
      expectError(bytes, /absurd/);
    });
    it('a header that is not UTF-8', () => {
      const bytes = buildFile('{"x":1}');
      bytes[9] = 0xff;
      expectError(bytes, /not valid UTF-8 JSON/);
    });
    it('a header that is not JSON', () => expectError(buildFile('{"w": '), /not valid UTF-8 JSON/));
    it('a header that is not an object', () => {
      expectError(buildFile('[1, 2]'), /must be a JSON object/);
      expectError(buildFile('null'), /must be a JSON object/);
    });
    it('an entry that is not an object', () =>
      expectError(buildFile({ w: [0, 8] }), /tensor "w": entry must be an object/));
    it('an entry missing a field', () => {
      expectError(buildFile({ w: { dtype: 'F32', shape: [2] } }, data8), /tensor "w": missing field "data_offsets"/);
      expectError(buildFile({ w: { shape: [2], data_offsets: [0, 8] } }, data8), /tensor "w": missing field "dtype"/);
    });
    it('an entry with an unexpected field', () => {
      expectError(buildFile({ w: { ...f32([0, 8]), extra: 1 } }, data8), /tensor "w": unexpected field "extra"/);
    });
    it('an unknown dtype', () => {
      expectError(
        buildFile({ w: { dtype: 'F8', shape: [2], data_offsets: [0, 2] } }, data8),
        /tensor "w": unknown dtype "F8"/,
      );
      expectError(
        buildFile({ w: { dtype: 4, shape: [2], data_offsets: [0, 8] } }, data8),
        /tensor "w": unknown dtype 4/,
      );
      expectError(
        buildFile({ w: { dtype: 'toString', shape: [2], data_offsets: [0, 8] } }, data8),
        /tensor "w": unknown dtype/,
      );
    });
    it('a bad shape', () => {
      for (const shape of ['2', [-1], [1.5], ['2'], [null], { 0: 2 }]) {
        expectError(
          buildFile({ w: f32([0, 8], shape) }, data8),
          /tensor "w": shape must be an array of non-negative integers/,
        );
      }
    });
    it('bad data_offsets', () => {
      for (const offsets of [[0], [0, 8, 8], [8, 0], ['0', 8], [0, 8.5], [-8, 0], null]) {
        expectError(
          buildFile({ w: f32(offsets) }, data8),
          /tensor "w": data_offsets must be two non-negative integers/,
        );
      }
    });
    it('a size that does not match shape and dtype', () => {
      expectError(
        buildFile({ w: f32([0, 4]) }, data8),
        /tensor "w": F32 shape \[2\] needs 8 bytes but data_offsets span 4/,
      );
      expectError(buildFile({ w: f32([0, 8], [2 ** 40, 2 ** 40]) }, data8), /tensor "w": F32 shape .* needs/);
    });
    it('a range outside the data buffer', () => {
      expectError(
        buildFile({ w: f32([4, 12]) }, data8),
        /tensor "w": data_offsets \[4, 12\] lie outside the data buffer of 8 bytes/,
      );
      expectError(buildFile({ w: f32([8, 8], [0]) }, new Uint8Array(4)), /tensor "w": .*outside/);
    });
    it('overlapping ranges', () => {
      expectError(
        buildFile({ a: f32([0, 8]), b: f32([4, 12]) }, new Uint8Array(12)),
        /tensor "b": .*overlap tensor "a"/,
      );
    });
    it('metadata that is not a string map', () => {
      expectError(buildFile({ __metadata__: { k: 1 } }), /__metadata__ must be an object mapping strings to strings/);
      expectError(buildFile({ __metadata__: ['x'] }), /__metadata__/);
    });
    it('an I64 value outside int32', () => {
      const data = new Uint8Array(16);
      new DataView(data.buffer).setBigInt64(8, 2n ** 31n, true);
      expectError(
        buildFile({ big: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data),
        /tensor "big": I64 value 2147483648 at index 1 does not fit in int32/,
      );
    });
  });

  it('only ever throws SafetensorsError on 200 random corruptions', () => {
    const valid = writeSafetensors(
      {
        w: { dtype: 'F32', shape: [2, 3], data: new Float32Array(6).fill(0.5) },
        h: { dtype: 'F16', shape: [4], data: new Float32Array([1, 2, 3, 4]) },
        i: { dtype: 'I64', shape: [2], data: new Int32Array([-1, 1]) },
        m: { dtype: 'BOOL', shape: [0], data: new Uint8Array(0) },
      },
      { note: 'fuzz' },
    );
    const headerLength = new DataView(valid.buffer).getUint32(0, true);
    const random = rng(12345);
    const int = (n: number) => Math.floor(random() * n);
    let rejected = 0;
    for (let trial = 0; trial < 200; trial++) {
      let bytes = valid.slice();
      switch (trial % 4) {
        case 0: // flip a few bytes anywhere
          for (let k = 1 + int(4); k > 0; k--) bytes[int(bytes.length)] = int(256);
          break;
        case 1: // truncate
          bytes = bytes.slice(0, int(bytes.length));
          break;
        case 2: // change a header character to a JSON-significant one
          bytes[8 + int(headerLength)] = '0123456789[]{},:"-.e '.charCodeAt(int(21));
          break;
        case 3: // random header length
          new DataView(bytes.buffer).setUint32(0, int(2) ? int(bytes.length) : int(2 ** 32), true);
          break;
      }
      try {
        readSafetensors(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(SafetensorsError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(100);
  });
});

describe('writeSafetensors', () => {
  const all: Record<string, TensorEntry> = {
    f64: { dtype: 'F64', shape: [3], data: new Float32Array([1.5, -1e30, 3.4028234663852886e38]) },
    f32: { dtype: 'F32', shape: [2, 2], data: new Float32Array([0.1, -0, Infinity, 1e-40]) },
    f16: { dtype: 'F16', shape: [6], data: new Float32Array([1, -2.5, 65504, 2 ** -24, -Infinity, -0]) },
    bf16: { dtype: 'BF16', shape: [5], data: new Float32Array([1, -2.5, 2 ** -133, 3.3895313892515355e38, -0]) },
    i64: { dtype: 'I64', shape: [4], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, -1, 0]) },
    i32: { dtype: 'I32', shape: [2, 1], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) },
    i16: { dtype: 'I16', shape: [3], data: new Int32Array([-32768, 32767, -1]) },
    i8: { dtype: 'I8', shape: [3], data: new Int32Array([-128, 127, -1]) },
    u8: { dtype: 'U8', shape: [2], data: new Uint8Array([0, 255]) },
    bool: { dtype: 'BOOL', shape: [], data: new Uint8Array([1]) },
    empty: { dtype: 'F16', shape: [0, 4], data: new Float32Array(0) },
  };

  it('round-trips every dtype', () => {
    const file = readSafetensors(writeSafetensors(all, { format: 'pt', a: 'b' }));
    expect(file.metadata).toEqual({ format: 'pt', a: 'b' });
    expect([...file.tensors.keys()].sort()).toEqual(Object.keys(all).sort());
    for (const [name, entry] of Object.entries(all)) {
      expect(file.tensors.get(name), name).toEqual(entry);
    }
  });

  it('keeps NaN a NaN in F16 and BF16', () => {
    const nan = new Float32Array([NaN]);
    const file = readSafetensors(
      writeSafetensors({
        h: { dtype: 'F16', shape: [1], data: nan },
        b: { dtype: 'BF16', shape: [1], data: nan },
      }),
    );
    expect(file.tensors.get('h')!.data[0]).toBeNaN();
    expect(file.tensors.get('b')!.data[0]).toBeNaN();
  });

  it('rounds F16 and BF16 to nearest even', () => {
    const file = readSafetensors(
      writeSafetensors({
        h: { dtype: 'F16', shape: [2], data: new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11]) },
        b: { dtype: 'BF16', shape: [2], data: new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8]) },
      }),
    );
    expect(Array.from(file.tensors.get('h')!.data)).toEqual([1, 1 + 2 ** -9]);
    expect(Array.from(file.tensors.get('b')!.data)).toEqual([1, 1 + 2 ** -6]);
  });

  it('is deterministic, sorted by name, padded to 8 bytes, and contiguous', () => {
    const reversed = Object.fromEntries(Object.entries(all).reverse());
    const bytes = writeSafetensors(all);
    expect(writeSafetensors(new Map(Object.entries(reversed)))).toEqual(bytes);
    const view = new DataView(bytes.buffer);
    const n = view.getUint32(0, true);
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text).toMatch(/} *$/);
    const header = JSON.parse(text) as Record<
      string,
      { dtype: 'F32'; shape: number[]; data_offsets: [number, number] }
    >;
    const names = Object.keys(all).sort();
    expect(text.indexOf('"bf16"')).toBeLessThan(text.indexOf('"bool"'));
    let offset = 0;
    for (const name of names) {
      expect(header[name].data_offsets).toEqual([offset, offset + tensorByteSize(all[name].dtype, all[name].shape)]);
      offset = header[name].data_offsets[1];
    }
    expect(bytes.length).toBe(8 + n + offset);
  });

  it('keeps sorted order for integer-like names', () => {
    const t = (v: number): TensorEntry => ({ dtype: 'U8', shape: [1], data: new Uint8Array([v]) });
    const bytes = writeSafetensors({ b: t(1), 10: t(2), 9: t(3) });
    const text = new TextDecoder().decode(bytes);
    expect(text.indexOf('"10"')).toBeLessThan(text.indexOf('"9"'));
    expect(text.indexOf('"9"')).toBeLessThan(text.indexOf('"b"'));
    expect(Array.from(bytes.subarray(bytes.length - 3))).toEqual([2, 3, 1]);
  });

  it('rejects bad tensors, naming them', () => {
    const bad: [TensorEntry, RegExp][] = [
      [
        { dtype: 'F32', shape: [3], data: new Float32Array(2) },
        /tensor "t": shape \[3\] has 3 elements but data has 2/,
      ],
      [
        { dtype: 'F32', shape: [2], data: new Int32Array(2) },
        /tensor "t": F32 data must be a Float32Array, got Int32Array/,
      ],
      [{ dtype: 'I64', shape: [2], data: new Float32Array(2) }, /tensor "t": I64 data must be a Int32Array/],
      [{ dtype: 'BOOL', shape: [2], data: new Int32Array(2) }, /tensor "t": BOOL data must be a Uint8Array/],
      [{ dtype: 'X' as 'F32', shape: [2], data: new Float32Array(2) }, /tensor "t": unknown dtype "X"/],
      [{ dtype: 'F32', shape: [-2], data: new Float32Array(2) }, /tensor "t": shape must be/],
      [
        { dtype: 'I8', shape: [2], data: new Int32Array([1, 128]) },
        /tensor "t": value 128 at index 1 does not fit in I8/,
      ],
      [
        { dtype: 'I16', shape: [1], data: new Int32Array([-40000]) },
        /tensor "t": value -40000 at index 0 does not fit in I16/,
      ],
    ];
    for (const [entry, message] of bad) expect(() => writeSafetensors({ t: entry })).toThrow(message);
    const ok: TensorEntry = { dtype: 'U8', shape: [0], data: new Uint8Array(0) };
    expect(() => writeSafetensors({ __metadata__: ok })).toThrow(/tensor "__metadata__": the name is reserved/);
    expect(() => writeSafetensors({ t: ok }, { k: 5 as unknown as string })).toThrow(SafetensorsError);
  });
});

describe('readSafetensorsFile', () => {
  it("puts the file's name in front of the message", () => {
    const good = writeSafetensors({ w: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    expect(() => readSafetensorsFile(good.subarray(0, good.length - 5), 'eval.safetensors')).toThrow(
      /^eval\.safetensors: tensor "w": data_offsets \[0, 16\] lie outside the data buffer/,
    );
  });
});
