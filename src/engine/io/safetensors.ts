// Hugging Face safetensors reader and writer.
//
// Layout: u64 little-endian header length N, N bytes of UTF-8 JSON header, then the data
// buffer. The header maps tensor name -> {dtype, shape, data_offsets: [begin, end]} (offsets
// relative to the data buffer) plus an optional "__metadata__" string -> string map.
//
// Floating dtypes are decoded to Float32Array, integer dtypes to Int32Array, U8/BOOL to
// Uint8Array; TensorEntry.dtype keeps the on-disk dtype. All multi-byte values are read and
// written little-endian through DataView, so input views at any byteOffset work.
import { shown } from './shown';

import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half';
import { duplicateKey } from './json-keys';
import type { ByteSource } from './byte-source';

export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';
export type TensorData = Float32Array | Int32Array | Uint8Array;
export interface TensorEntry {
  dtype: DType;
  shape: number[];
  data: TensorData;
}
export interface SafetensorsFile {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

/** Any problem with a safetensors file or with tensors given to the writer. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

const DTYPE_SIZE: Record<DType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};
/** Which in-memory array type holds each dtype. */
const DTYPE_ARRAY: Record<DType, 'float' | 'int' | 'byte'> = {
  F64: 'float',
  F32: 'float',
  F16: 'float',
  BF16: 'float',
  I64: 'int',
  I32: 'int',
  I16: 'int',
  I8: 'int',
  U8: 'byte',
  BOOL: 'byte',
};
const METADATA_KEY = '__metadata__';
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.hasOwn(DTYPE_SIZE, value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Number of elements of a shape (1 for a scalar). May exceed 2^53 for absurd shapes; callers
 * compare it against real byte counts, which such a value can never equal. */
function elementCount(shape: number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function tensorByteSize(dtype: DType, shape: number[]): number {
  return elementCount(shape) * DTYPE_SIZE[dtype];
}

/** JSON's "-0" parses to −0, which is a non-negative integer: read as +0, so that sizes and offsets are plain numbers. */
const unsigned = (v: number): number => v + 0;

function checkShape(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
    throw new SafetensorsError(
      `tensor "${name}": shape must be an array of non-negative integers, got ${shown(shape)}`,
    );
  }
  return shape.map(unsigned);
}

function checkMetadata(metadata: unknown): Record<string, string> {
  if (!isPlainObject(metadata) || !Object.values(metadata).every((v) => typeof v === 'string')) {
    throw new SafetensorsError(`${METADATA_KEY} must be an object mapping strings to strings, got ${shown(metadata)}`);
  }
  return { ...(metadata as Record<string, string>) };
}

// ---------------------------------------------------------------------------------------
// Reading

/** A tensor as the header describes it; begin and end are byte offsets into the data buffer. */
export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * A checked header: every tensor's bytes lie inside the file and no two overlap, so decoding them
 * allocates at most what the file's data buffer implies.
 */
export interface SafetensorsHeader {
  tensors: TensorInfo[];
  metadata: Record<string, string>;
  /** Where the data buffer starts in the file: 8 + the header length. */
  dataStart: number;
}

function parseEntry(name: string, value: unknown, dataLength: number): TensorInfo {
  if (!isPlainObject(value))
    throw new SafetensorsError(`tensor "${name}": entry must be an object, got ${shown(value)}`);
  for (const field of ['dtype', 'shape', 'data_offsets']) {
    if (!(field in value)) throw new SafetensorsError(`tensor "${name}": missing field "${field}"`);
  }
  for (const field of Object.keys(value)) {
    if (field !== 'dtype' && field !== 'shape' && field !== 'data_offsets') {
      throw new SafetensorsError(`tensor "${name}": unexpected field "${field}"`);
    }
  }
  const { dtype, data_offsets: offsets } = value;
  if (!isDType(dtype)) throw new SafetensorsError(`tensor "${name}": unknown dtype ${shown(dtype)}`);
  const shape = checkShape(name, value.shape);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInt) || offsets[0] > offsets[1]) {
    throw new SafetensorsError(
      `tensor "${name}": data_offsets must be two non-negative integers [begin, end] with begin <= end, got ${shown(offsets)}`,
    );
  }
  const [begin, end] = (offsets as number[]).map(unsigned);
  const expected = tensorByteSize(dtype, shape);
  if (expected !== end - begin) {
    throw new SafetensorsError(
      `tensor "${name}": ${dtype} shape [${shape.join(', ')}] needs ${expected} bytes but data_offsets span ${end - begin}`,
    );
  }
  if (end > dataLength) {
    throw new SafetensorsError(
      `tensor "${name}": data_offsets [${begin}, ${end}] lie outside the data buffer of ${dataLength} bytes`,
    );
  }
  return { name, dtype, shape, begin, end };
}

/**
 * The bytes a header occupies at the start of a file of `fileSize` bytes (8 + the header length),
 * from at least the file's first 8 bytes (all of it when shorter): what a reader that does not hold
 * the whole file reads next. Throws when the length field is absurd or runs past the file.
 */
export function safetensorsHeaderSize(first: Uint8Array, fileSize: number): number {
  if (fileSize < 8) throw new SafetensorsError(`file is ${fileSize} bytes, shorter than the 8-byte header length`);
  if (first.length < 8) throw new RangeError(`the length field needs the file's first 8 bytes, got ${first.length}`);
  const view = new DataView(first.buffer, first.byteOffset, first.byteLength);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength > MAX_HEADER_BYTES)
    throw new SafetensorsError(`header length ${headerLength} is absurd (limit ${MAX_HEADER_BYTES} bytes)`);
  if (8 + headerLength > fileSize) {
    throw new SafetensorsError(
      `header length ${headerLength} exceeds the ${fileSize - 8} bytes after the length field`,
    );
  }
  return 8 + headerLength;
}

/**
 * Reads and checks the header without decoding any tensor. `bytes` is the file, or, for a reader
 * that reads files by ranges, its first safetensorsHeaderSize bytes with `fileSize` the whole
 * file's: the tensors' byte ranges are checked against the file's data buffer either way.
 */
export function readSafetensorsHeader(bytes: Uint8Array, fileSize = bytes.length): SafetensorsHeader {
  const dataStart = safetensorsHeaderSize(bytes, fileSize);
  if (bytes.length < dataStart)
    throw new RangeError(`the header needs the file's first ${dataStart} bytes, got ${bytes.length}`);
  const headerLength = dataStart - 8;

  let text: string;
  let header: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
    header = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(header)) throw new SafetensorsError(`header must be a JSON object, got ${shown(header)}`);
  const keys = Object.keys(header);
  // A name given twice (a tensor, a field of one, a metadata key) is refused rather than guessed.
  const twice = duplicateKey(text);
  if (twice) {
    const [top, ...rest] = twice.path;
    const where =
      top === undefined ? 'header' : top === METADATA_KEY ? METADATA_KEY : `tensor ${JSON.stringify(top)}: the entry`;
    const inner = rest.length > 0 ? ` (in ${rest.map((k) => JSON.stringify(k)).join(' → ')})` : '';
    throw new SafetensorsError(`${where} names ${JSON.stringify(twice.key)} more than once${inner}`);
  }

  const dataLength = fileSize - dataStart;
  let metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const name of keys) {
    if (name === METADATA_KEY) metadata = checkMetadata(header[name]);
    else tensors.push(parseEntry(name, header[name], dataLength));
  }

  // Overlap check on the non-empty ranges sorted by start (an empty range holds no bytes).
  const ranges = tensors.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i].begin < ranges[i - 1].end) {
      throw new SafetensorsError(
        `tensor "${ranges[i].name}": data_offsets [${ranges[i].begin}, ${ranges[i].end}] overlap tensor "${ranges[i - 1].name}" [${ranges[i - 1].begin}, ${ranges[i - 1].end}]`,
      );
    }
  }
  return { tensors, metadata, dataStart };
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Decodes one tensor of a file whose header readSafetensorsHeader returned. */
export function readTensor(bytes: Uint8Array, header: SafetensorsHeader, info: TensorInfo): TensorEntry {
  return decodeTensor(bytes, header.dataStart + info.begin, info);
}

/**
 * Decodes the tensor `info` describes from its bytes, found at `at` in `bytes`: the whole file's
 * bytes (readTensor), or the tensor's own, read from a range of the file. `owned`: the caller gives
 * up `bytes`, so F32 values may be a view on them instead of a copy (a streamed tensor is then held
 * once, not twice).
 */
export function decodeTensor(bytes: Uint8Array, at: number, info: TensorInfo, owned = false): TensorEntry {
  const { dtype, name } = info;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = (info.end - info.begin) / DTYPE_SIZE[dtype];
  if (at < 0 || at + n * DTYPE_SIZE[dtype] > bytes.length)
    throw new RangeError(
      `tensor "${name}": bytes [${at}, ${at + info.end - info.begin}) lie outside the ${bytes.length} given`,
    );
  const entry = (data: TensorData): TensorEntry => ({ dtype, shape: info.shape, data });
  switch (dtype) {
    case 'U8':
    case 'BOOL':
      return entry(bytes.slice(at, at + n));
    case 'F64':
      return entry(fill(new Float32Array(n), (i) => view.getFloat64(at + 8 * i, true)));
    case 'F32':
      // Aligned on a little-endian host (every one that runs this): one copy of the bytes, or none.
      if ((bytes.byteOffset + at) % 4 === 0 && LITTLE_ENDIAN) {
        const values = new Float32Array(bytes.buffer, bytes.byteOffset + at, n);
        return entry(owned ? values : values.slice());
      }
      return entry(fill(new Float32Array(n), (i) => view.getFloat32(at + 4 * i, true)));
    case 'F16':
      return entry(fill(new Float32Array(n), (i) => f16ToF32(view.getUint16(at + 2 * i, true))));
    case 'BF16':
      return entry(fill(new Float32Array(n), (i) => bf16ToF32(view.getUint16(at + 2 * i, true))));
    case 'I32':
      return entry(fill(new Int32Array(n), (i) => view.getInt32(at + 4 * i, true)));
    case 'I16':
      return entry(fill(new Int32Array(n), (i) => view.getInt16(at + 2 * i, true)));
    case 'I8':
      return entry(fill(new Int32Array(n), (i) => view.getInt8(at + i)));
    case 'I64':
      return entry(
        fill(new Int32Array(n), (i) => {
          const lo = view.getUint32(at + 8 * i, true);
          const hi = view.getInt32(at + 8 * i + 4, true);
          // In int32 range exactly when the high word is the sign extension of the low word.
          if (hi !== (lo | 0) >> 31) {
            const value = view.getBigInt64(at + 8 * i, true);
            throw new SafetensorsError(`tensor "${name}": I64 value ${value} at index ${i} does not fit in int32`);
          }
          return lo | 0;
        }),
      );
  }
}

function fill<T extends Float32Array | Int32Array>(out: T, get: (i: number) => number): T {
  for (let i = 0; i < out.length; i++) out[i] = get(i);
  return out;
}

export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  const header = readSafetensorsHeader(bytes);
  const tensors = new Map<string, TensorEntry>();
  for (const info of header.tensors) tensors.set(info.name, readTensor(bytes, header, info));
  return { tensors, metadata: header.metadata };
}

// ---------------------------------------------------------------------------------------
// Writing

function checkEntry(name: string, entry: TensorEntry): void {
  if (!isDType(entry.dtype)) throw new SafetensorsError(`tensor "${name}": unknown dtype ${shown(entry.dtype)}`);
  const shape = checkShape(name, entry.shape);
  const kind = DTYPE_ARRAY[entry.dtype];
  const { data } = entry;
  const ok =
    kind === 'float'
      ? data instanceof Float32Array
      : kind === 'int'
        ? data instanceof Int32Array
        : data instanceof Uint8Array;
  if (!ok) {
    const want = kind === 'float' ? 'Float32Array' : kind === 'int' ? 'Int32Array' : 'Uint8Array';
    throw new SafetensorsError(
      `tensor "${name}": ${entry.dtype} data must be a ${want}, got ${data?.constructor?.name ?? typeof data}`,
    );
  }
  if (data.length !== elementCount(shape)) {
    throw new SafetensorsError(
      `tensor "${name}": shape [${shape.join(', ')}] has ${elementCount(shape)} elements but data has ${data.length}`,
    );
  }
}

function encodeTensor(name: string, entry: TensorEntry, view: DataView, at: number): void {
  const { data } = entry;
  const range = (lo: number, hi: number) => (v: number, i: number) => {
    if (v < lo || v > hi)
      throw new SafetensorsError(`tensor "${name}": value ${v} at index ${i} does not fit in ${entry.dtype}`);
  };
  const each = (write: (v: number, i: number) => void) => {
    data.forEach(write);
  };
  switch (entry.dtype) {
    case 'U8':
    case 'BOOL':
      new Uint8Array(view.buffer, view.byteOffset + at, data.length).set(data);
      break;
    case 'F64':
      each((v, i) => view.setFloat64(at + 8 * i, v, true));
      break;
    case 'F32':
      each((v, i) => view.setFloat32(at + 4 * i, v, true));
      break;
    case 'F16':
      each((v, i) => view.setUint16(at + 2 * i, f32ToF16(v), true));
      break;
    case 'BF16':
      each((v, i) => view.setUint16(at + 2 * i, f32ToBf16(v), true));
      break;
    case 'I32':
      each((v, i) => view.setInt32(at + 4 * i, v, true));
      break;
    case 'I16':
      each(range(-0x8000, 0x7fff));
      each((v, i) => view.setInt16(at + 2 * i, v, true));
      break;
    case 'I8':
      each(range(-0x80, 0x7f));
      each((v, i) => view.setInt8(at + i, v));
      break;
    case 'I64':
      each((v, i) => {
        view.setInt32(at + 8 * i, v, true);
        view.setInt32(at + 8 * i + 4, v < 0 ? -1 : 0, true); // sign extension
      });
  }
}

/** Where each tensor of a safetensors file goes: the header bytes, and each tensor's data range. */
export interface SafetensorsLayout {
  /** The 8-byte length and the padded JSON header: the file's first bytes. */
  header: Uint8Array;
  /** Tensor name → [begin, end) of its bytes in the file (absolute, after the header). */
  ranges: Map<string, [number, number]>;
  /** The whole file's length. */
  size: number;
}

/**
 * The layout of a safetensors file of these tensors (dtype and shape each; data not needed), in the
 * order writeSafetensors writes them, so a writer can lay the header down first and the tensors
 * one at a time as they are made.
 */
export function safetensorsLayout(
  tensors: Map<string, Pick<TensorEntry, 'dtype' | 'shape'>>,
  metadata?: Record<string, string>,
): SafetensorsLayout {
  // Sort by UTF-16 code units (not localeCompare) so the output is the same everywhere.
  const names = [...tensors.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  // The header is built as text rather than with JSON.stringify on an object, because JS
  // objects put integer-like keys (a tensor named "0") first, breaking the sorted order.
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(checkMetadata(metadata))}`);
  let offset = 0;
  const relative: [string, number, number][] = [];
  for (const name of names) {
    if (name === METADATA_KEY) throw new SafetensorsError(`tensor "${name}": the name is reserved for metadata`);
    const entry = tensors.get(name)!;
    if (!isDType(entry.dtype)) throw new SafetensorsError(`tensor "${name}": unknown dtype ${shown(entry.dtype)}`);
    const size = tensorByteSize(entry.dtype, checkShape(name, entry.shape));
    const info = { dtype: entry.dtype, shape: entry.shape, data_offsets: [offset, offset + size] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    relative.push([name, offset, offset + size]);
    offset += size;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8; // padded with spaces, as the reference implementation does
  const header = new Uint8Array(8 + headerLength);
  const view = new DataView(header.buffer);
  view.setUint32(0, headerLength % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  header.set(json, 8);
  header.fill(0x20, 8 + json.length);
  const start = header.length;
  return {
    header,
    ranges: new Map(relative.map(([name, b, e]) => [name, [start + b, start + e]])),
    size: start + offset,
  };
}

/** One tensor's bytes as a safetensors file stores them (little-endian, in its dtype). */
export function encodeTensorBytes(name: string, entry: TensorEntry): Uint8Array {
  checkEntry(name, entry);
  const out = new Uint8Array(tensorByteSize(entry.dtype, entry.shape));
  encodeTensor(name, entry, new DataView(out.buffer), 0);
  return out;
}

export function writeSafetensors(
  tensors: Map<string, TensorEntry> | Record<string, TensorEntry>,
  metadata?: Record<string, string>,
): Uint8Array {
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  for (const [name, entry] of map) if (name !== METADATA_KEY) checkEntry(name, entry);
  const layout = safetensorsLayout(map, metadata);
  const out = new Uint8Array(layout.size);
  out.set(layout.header, 0);
  const view = new DataView(out.buffer);
  for (const [name, [begin]] of layout.ranges) encodeTensor(name, map.get(name)!, view, begin);
  return out;
}

/** Runs a read of the file `fileName`, with the file's name in front of any SafetensorsError (which file was bad?). */
export function inFile<T>(fileName: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof SafetensorsError) throw new SafetensorsError(`${fileName}: ${e.message}`);
    throw e;
  }
}

/** readSafetensors, with the file's name in front of any error message. */
export function readSafetensorsFile(bytes: Uint8Array, fileName: string): SafetensorsFile {
  return inFile(fileName, () => readSafetensors(bytes));
}

// ---------------------------------------------------------------------------------------
// Reading by ranges

/** A file's header, read from its source: the length field, then the header, nothing after. */
export async function readSafetensorsHeaderFrom(source: ByteSource): Promise<SafetensorsHeader> {
  const first = await source.read(0, Math.min(8, source.size));
  const size = safetensorsHeaderSize(first, source.size);
  return readSafetensorsHeader(await source.read(0, size), source.size);
}

/** One tensor of a file whose header readSafetensorsHeaderFrom returned: its bytes alone are read. */
export async function readTensorFrom(
  source: ByteSource,
  header: SafetensorsHeader,
  info: TensorInfo,
): Promise<TensorEntry> {
  const bytes = await source.read(header.dataStart + info.begin, info.end - info.begin);
  return decodeTensor(bytes, 0, info, true);
}
