// Pruning works on a linear layer's weights as [out, in] rows (one row per output feature), the
// view in which Wanda's comparison groups and N:M groups are contiguous. GPT-2's Conv1D stores
// [in, out], so its matrices are transposed into and out of that view.
import type { LinearSpec } from '../model/schema';

export function toRows<T extends Float32Array | Uint8Array>(data: T, spec: LinearSpec): T {
  if (spec.layout === 'out_in') return data;
  return transpose(data, spec.inFeatures, spec.outFeatures);
}

export function fromRows<T extends Float32Array | Uint8Array>(rows: T, spec: LinearSpec): T {
  if (spec.layout === 'out_in') return rows;
  return transpose(rows, spec.outFeatures, spec.inFeatures);
}

/** [r, c] row-major → [c, r] row-major. */
function transpose<T extends Float32Array | Uint8Array>(data: T, r: number, c: number): T {
  const out = new (data.constructor as { new (n: number): T })(data.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = data[i * c + j];
  return out;
}
