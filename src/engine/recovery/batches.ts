// Training batches for recovery, from data the caller already holds: a language model's text as
// token windows (cut as evaluation cuts them), or labelled images. Each batch is calibration data
// (pruning/calibration.ts), so one conversion to tensors serves both.
import type { CalibrationData } from '../pruning/calibration';
import { lmWindowCount } from '../eval/metrics';
import { Mulberry32 } from '../pruning/random';

/** The training batch of update `step` (0-based). Called once per step, in order. */
export type BatchSource = (step: number) => CalibrationData;

/**
 * `tokens` cut into windows of context + 1 tokens (inputs and their next-token targets), each
 * starting `stride` after the one before, as evaluateLm cuts a text (default stride: the context,
 * so the windows do not overlap).
 */
export function lmTrainingWindows(tokens: Int32Array, context: number, stride = context): CalibrationData {
  const count = lmWindowCount(tokens.length, context, stride);
  if (count < 1) throw new Error(`training text: need more than ${context} tokens, got ${tokens.length}`);
  const windows = new Int32Array(count * (context + 1));
  for (let w = 0; w < count; w++) windows.set(tokens.subarray(w * stride, w * stride + context + 1), w * (context + 1));
  return {
    kind: 'lm',
    description: `${count} windows of ${context} tokens (stride ${stride})`,
    count,
    length: context,
    windows,
  };
}

/**
 * Batches of `batchSize` examples of `data`, every example once per epoch in an order shuffled
 * anew each epoch from `seed` (a batch may straddle two epochs). Step s always gets the same
 * examples for a seed, whatever was asked before.
 */
export function trainingBatches(data: CalibrationData, batchSize: number, seed: number): BatchSource {
  if (!(Number.isInteger(batchSize) && batchSize >= 1))
    throw new Error(`the batch size must be a whole number ≥ 1, got ${batchSize}`);
  if (data.count < 1) throw new Error('training data: no examples');
  let cached: { epoch: number; order: Uint32Array } | null = null;
  const orderOf = (epoch: number): Uint32Array => {
    if (cached?.epoch !== epoch) cached = { epoch, order: permutation(data.count, seed + epoch * 7919) };
    return cached.order;
  };
  return (step) => {
    const picked: number[] = [];
    for (let p = step * batchSize; p < (step + 1) * batchSize; p++)
      picked.push(orderOf(Math.floor(p / data.count))[p % data.count]);
    return gather(data, picked, `${data.description}: batch ${step}`);
  };
}

/** Fisher–Yates over 0 … n − 1. */
function permutation(n: number, seed: number): Uint32Array {
  const random = new Mulberry32(seed);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The examples `idx` of `data`, in that order. */
function gather(data: CalibrationData, idx: number[], description: string): CalibrationData {
  if (data.kind === 'lm') {
    const row = data.length + 1;
    const windows = new Int32Array(idx.length * row);
    idx.forEach((src, i) => {
      windows.set(data.windows.subarray(src * row, (src + 1) * row), i * row);
    });
    return { ...data, description, count: idx.length, windows };
  }
  const per = data.pixels.length / data.count;
  const pixels = new Uint8Array(idx.length * per);
  const labels = data.labels ? new Uint8Array(idx.length) : null;
  idx.forEach((src, i) => {
    pixels.set(data.pixels.subarray(src * per, (src + 1) * per), i * per);
    if (labels) labels[i] = data.labels![src];
  });
  return { ...data, description, count: idx.length, pixels, labels };
}
