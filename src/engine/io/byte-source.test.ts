import { describe, expect, it } from 'vitest';
import { blobSource, bytesSource, readAll, type ByteSource } from './byte-source';
import {
  readSafetensorsHeader,
  readSafetensorsHeaderFrom,
  readTensor,
  readTensorFrom,
  SafetensorsError,
  writeSafetensors,
  type TensorEntry,
} from './safetensors';

/** A source that records every range read from it. */
function countingSource(inner: ByteSource): ByteSource & { reads: [number, number][] } {
  const reads: [number, number][] = [];
  return {
    size: inner.size,
    reads,
    read: (offset, length) => {
      reads.push([offset, offset + length]);
      return inner.read(offset, length);
    },
  };
}

/** The outcome of a call: its value, or the class and message of what it threw. */
async function outcome<T>(fn: () => T | Promise<T>): Promise<{ value: T } | { error: string; message: string }> {
  try {
    return { value: await fn() };
  } catch (e) {
    return { error: (e as Error).constructor.name, message: (e as Error).message };
  }
}

const bits = (data: TensorEntry['data']) =>
  data instanceof Float32Array ? [...new Uint32Array(data.buffer, data.byteOffset, data.length)] : [...data];

const ALL: Record<string, TensorEntry> = {
  f64: { dtype: 'F64', shape: [3], data: new Float32Array([1.5, -1e30, Number.NaN]) },
  f32: { dtype: 'F32', shape: [2, 2], data: new Float32Array([0.1, -0, Infinity, 1e-40]) },
  f16: { dtype: 'F16', shape: [6], data: new Float32Array([1, -2.5, 65504, 2 ** -24, -Infinity, -0]) },
  bf16: { dtype: 'BF16', shape: [5], data: new Float32Array([1, -2.5, 2 ** -133, Number.NaN, -0]) },
  odd: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) }, // puts what follows off 4-byte alignment
  i64: { dtype: 'I64', shape: [2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) },
  i16: { dtype: 'I16', shape: [3], data: new Int32Array([-32768, 32767, -1]) },
  i8: { dtype: 'I8', shape: [3], data: new Int32Array([-128, 127, -1]) },
  bool: { dtype: 'BOOL', shape: [], data: new Uint8Array([1]) },
  empty: { dtype: 'F16', shape: [0, 4], data: new Float32Array(0) },
  z: { dtype: 'F32', shape: [3], data: new Float32Array([1, 2, 3]) },
};

describe('byte sources', () => {
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);

  it('read the bytes asked for, each read a buffer of its own', async () => {
    for (const source of [bytesSource(bytes), blobSource(new Blob([bytes]))]) {
      expect(source.size).toBe(100);
      expect([...(await source.read(10, 5))]).toEqual([10, 11, 12, 13, 14]);
      expect((await source.read(100, 0)).length).toBe(0);
      const got = await source.read(0, 4);
      got[0] = 99;
      expect(bytes[0]).toBe(0);
      expect(got.byteOffset).toBe(0);
      expect(got.buffer.byteLength).toBe(4);
      expect([...(await readAll(source))]).toEqual([...bytes]);
    }
  });

  it('refuse a range outside the file', async () => {
    for (const source of [bytesSource(bytes), blobSource(new Blob([bytes]))]) {
      await expect(source.read(98, 3)).rejects.toThrow('cannot read bytes [98, 101) of a 100-byte file');
      await expect(source.read(-1, 3)).rejects.toThrow(RangeError);
      await expect(source.read(0.5, 3)).rejects.toThrow(RangeError);
    }
  });

  it('a Blob that reads short (its file changed) is an error, not short data', async () => {
    const shrunk = { size: 10, slice: () => new Blob([new Uint8Array(3)]) } as unknown as Blob;
    await expect(blobSource(shrunk).read(0, 10)).rejects.toThrow(/read 3 bytes at offset 0 instead of 10/);
  });
});

describe('safetensors by ranges', () => {
  const file = writeSafetensors(ALL, { format: 'pt' });
  const header = readSafetensorsHeader(file);

  it('reads the header from the length field and the header alone', async () => {
    const source = countingSource(bytesSource(file));
    expect(await readSafetensorsHeaderFrom(source)).toEqual(header);
    expect(source.reads).toEqual([
      [0, 8],
      [0, header.dataStart],
    ]);
  });

  it('decodes each tensor from its own bytes as from the whole file, bit for bit', async () => {
    const source = countingSource(bytesSource(file));
    for (const info of header.tensors) {
      source.reads.length = 0;
      const lazy = await readTensorFrom(source, header, info);
      const whole = readTensor(file, header, info);
      expect(lazy.dtype, info.name).toBe(whole.dtype);
      expect(lazy.shape, info.name).toEqual(whole.shape);
      expect(lazy.data.constructor, info.name).toBe(whole.data.constructor);
      expect(bits(lazy.data), info.name).toEqual(bits(whole.data));
      expect(source.reads).toEqual([[header.dataStart + info.begin, header.dataStart + info.end]]);
    }
  });

  it('checks a header against the whole file from its first bytes', () => {
    const prefix = file.slice(0, header.dataStart);
    expect(readSafetensorsHeader(prefix, file.length)).toEqual(header);
    // The data buffer is the file's, not the prefix's: one byte short puts the last tensor outside it.
    expect(() => readSafetensorsHeader(prefix, file.length - 1)).toThrow(/tensor "z": .*lie outside the data buffer/);
    // Fewer bytes than the header takes is the caller's mistake.
    expect(() => readSafetensorsHeader(prefix.subarray(0, 20), file.length)).toThrow(RangeError);
  });

  it('accepts and refuses exactly what the whole-file reader does, with the same messages', async () => {
    let seed = 4321;
    const int = (n: number) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return Math.floor((seed / 2 ** 32) * n);
    };
    let refused = 0;
    for (let trial = 0; trial < 300; trial++) {
      let bytes = file.slice();
      switch (trial % 4) {
        case 0:
          for (let k = 1 + int(4); k > 0; k--) bytes[int(bytes.length)] = int(256);
          break;
        case 1:
          bytes = bytes.slice(0, int(bytes.length));
          break;
        case 2:
          bytes[8 + int(header.dataStart - 8)] = '0123456789[]{},:"-.e '.charCodeAt(int(21));
          break;
        case 3:
          new DataView(bytes.buffer).setUint32(0, int(2) ? int(bytes.length) : int(2 ** 32), true);
          break;
      }
      const whole = await outcome(() => readSafetensorsHeader(bytes));
      const ranged = await outcome(() => readSafetensorsHeaderFrom(bytesSource(bytes)));
      expect(ranged).toEqual(whole);
      if ('error' in whole) {
        expect(whole.error).toBe(SafetensorsError.name);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(150);
  });
});
