// A model's fingerprint for share links made on dropped files: the SHA-256 of its safetensors
// headers (each weights file's 8-byte length and the JSON header it announces, in file-name order).
// The headers name every tensor with its dtype, shape and byte range, so two checkpoints of
// different architectures or sizes differ, and hashing them costs nothing next to the weights.
import { weightFileMap, type CheckpointFiles } from '../engine/model/checkpoint';

/** The first 8 + header-length bytes of a safetensors file (all of it when it is shorter). */
export function safetensorsHeader(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 8) return bytes;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  const end = n > BigInt(bytes.length - 8) ? bytes.length : 8 + Number(n);
  return bytes.subarray(0, end);
}

/** Hex SHA-256 over the weights files' headers, in the order of their names. */
export async function weightsDigest(weights: CheckpointFiles['weights']): Promise<string> {
  const files = [...weightFileMap(weights)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const parts = files.map(([, bytes]) => safetensorsHeader(bytes));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return [...hash].map((b) => b.toString(16).padStart(2, '0')).join('');
}
