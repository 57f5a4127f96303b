// A model's fingerprint for share links made on dropped files: the SHA-256 of its safetensors
// headers (each weights file's 8-byte length and the JSON header it announces, in file-name order).
// The headers name every tensor with its dtype, shape and byte range, so two checkpoints of
// different architectures or sizes differ, and hashing them costs nothing next to the weights
// (they are read by ranges: the weights need not be in memory).
import { weightFileMap, type CheckpointFiles } from '../engine/model/checkpoint';
import { bytesSource, readAll, type ByteSource } from '../engine/io/byte-source';

/** The first 8 + header-length bytes of a safetensors file (all of it when it is shorter). */
export async function safetensorsHeader(source: ByteSource): Promise<Uint8Array> {
  if (source.size < 8) return readAll(source);
  const first = await source.read(0, 8);
  const n = new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true);
  return source.read(0, n > BigInt(source.size - 8) ? source.size : 8 + Number(n));
}

/** The weights files as sources, whether in memory or read by ranges. */
export const weightSources = (
  weights: CheckpointFiles['weights'] | Map<string, ByteSource>,
): Map<string, ByteSource> =>
  weights instanceof Uint8Array
    ? new Map([...weightFileMap(weights)].map(([n, b]) => [n, bytesSource(b)]))
    : new Map([...weights].map(([n, w]) => [n, w instanceof Uint8Array ? bytesSource(w) : w]));

/** Hex SHA-256 over the weights files' headers, in the order of their names. */
export async function weightsDigest(weights: CheckpointFiles['weights'] | Map<string, ByteSource>): Promise<string> {
  const files = [...weightSources(weights)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const parts = await Promise.all(files.map(([, source]) => safetensorsHeader(source)));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return [...hash].map((b) => b.toString(16).padStart(2, '0')).join('');
}
