// What a run needs in memory, estimated from the checkpoint's shapes before any weight is read, so
// that a model too big for the budget is refused with the reason and the streamed run is chosen
// when the whole model would not fit. The factors come from measurements (bench/load.ts,
// bench/real-sizes.ts), not from first principles: they are what the runtime really held.
import { ffnSize, hiddenSize, isCausalLm, numLayers, type ModelConfig } from '../model/config';
import { linearSpecs } from '../model/schema';
import type { LazyCheckpoint } from '../model/lazy-checkpoint';

/** The runtime before any model: Node (or the worker), TensorFlow.js and its WASM backend (CLI start: 181 MB). */
export const RUNTIME_BYTES = 200e6;

/**
 * Whole-model runs hold each weight many times as f32: the file's bytes, decoded on the host, as a
 * tensor, the pruning's scores, masks and pruned copies, and TF.js's WASM heap, which never shrinks.
 * Measured on GPT-2 small's shape (497 MB of f32), Wanda 50% with 16 + 16 windows: 6.05 GB peak
 * RSS, 11.8× (bench/real-sizes.ts, row gpt2-wanda-whole); loading alone peaks at 3.0×.
 */
const WHOLE_FACTOR = 12;

/**
 * The same in the page's worker, which keeps fewer copies: GPT-2 small (497 MB of f32) opened,
 * pruned by Wanda and measured held 3.80 GB over the idle page, 7.6× (bench/page-prune.ts,
 * 2026-11-30).
 */
export const PAGE_WHOLE_FACTOR = 7.7;

export interface MemoryPart {
  what: string;
  bytes: number;
}

export interface MemoryEstimate {
  bytes: number;
  parts: MemoryPart[];
}

const total = (parts: MemoryPart[]): MemoryEstimate => ({ bytes: parts.reduce((a, p) => a + p.bytes, 0), parts });

const f32 = (ck: LazyCheckpoint, names: string[]) =>
  names.reduce((a, n) => a + 4 * (ck.shapes.get(n) ?? []).reduce((x, y) => x * y, 1), 0);

/** Memory of a run that loads every weight (`factor`: the f32 copies the runtime holds while pruning). */
export function wholeModelMemory(ck: LazyCheckpoint, factor = WHOLE_FACTOR): MemoryEstimate {
  return total([
    { what: 'the runtime', bytes: RUNTIME_BYTES },
    {
      what: `the weights as f32, about ${factor}× while pruning`,
      bytes: factor * f32(ck, [...ck.shapes.keys()]),
    },
  ]);
}

/** What a streamed run carries through the blocks. */
export interface StreamLoad {
  /** Calibration tokens (windows × length). */
  calibrationTokens: number;
  /** Evaluation tokens (windows × context), each carried twice (dense and pruned). */
  evaluationTokens: number;
  /** Tokens per evaluation batch, whose logits are computed at once. */
  evaluationBatchTokens: number;
  /** SparseGPT: each linear's input Gram matrix and its factors. */
  gram: boolean;
}

/** Memory of a streamed run: the weights outside the blocks, one block, the activations carried. */
export function streamedMemory(ck: LazyCheckpoint, load: StreamLoad): MemoryEstimate {
  const c: ModelConfig = ck.config;
  const widest = Math.max(...Array.from({ length: numLayers(c) }, (_, l) => f32(ck, ck.blockNames(l))));
  const d = hiddenSize(c);
  const parts: MemoryPart[] = [
    { what: 'the runtime', bytes: RUNTIME_BYTES },
    // As tensors, and the largest of them on the host while it is read and written out.
    {
      what: 'embeddings, final norm and head (f32, and the largest twice)',
      bytes: f32(ck, ck.outsideNames()) + Math.max(...ck.outsideNames().map((n) => f32(ck, [n]))),
    },
    // Decoded, as tensors, pruned, and the scores or masks.
    { what: 'one block (f32, four times)', bytes: 4 * widest },
    {
      what: 'the hidden states carried (calibration; evaluation dense and pruned)',
      bytes:
        4 * d * (2 * load.calibrationTokens + 2 * load.evaluationTokens) + 4 * 3 * ffnSize(c) * load.calibrationTokens,
    },
  ];
  if (isCausalLm(c) && load.evaluationTokens > 0)
    parts.push({ what: 'one evaluation batch of logits', bytes: 4 * 4 * c.vocabSize * load.evaluationBatchTokens });
  if (load.gram) {
    const widestIn = Math.max(
      ...linearSpecs(c)
        .filter((s) => s.prunable)
        .map((s) => s.inFeatures),
    );
    // SparseGPT's f64 Hessian, its inverse and Cholesky factors and the weights in f64 for the
    // widest input, and the block's f32 Gram sums. What they add up to fell short of the measured
    // peak (GPT-2 small: 1.53 GB against 1.31 GB estimated; the factors' garbage lingers), so the
    // f64 part counts eight n² arrays.
    parts.push({
      what: `SparseGPT's Hessians (${widestIn} inputs)`,
      bytes: 8 * 8 * widestIn ** 2 + 4 * 4 * widestIn ** 2,
    });
  }
  return total(parts);
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
};

/** A size as 1.2GB, 800MB, 2GiB or a plain count of bytes (K, M, G alone are decimal, as GB); null when it is none. */
export function parseSize(value: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$/i.exec(value);
  const unit = m ? (m[2] ?? '').toUpperCase() : '';
  const scale = BYTE_UNITS[unit.length === 1 && unit !== 'B' ? `${unit}B` : unit];
  if (!m || scale === undefined || !(Number(m[1]) > 0)) return null;
  return Math.round(Number(m[1]) * scale);
}

/** Bytes in words: 1.2 GB, 340 MB. */
export function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${Math.round(n / 1e6)} MB`;
}

/** An estimate in words, largest part first. */
export function describeEstimate(e: MemoryEstimate): string {
  const parts = [...e.parts].sort((a, b) => b.bytes - a.bytes).map((p) => `${p.what} ${formatBytes(p.bytes)}`);
  return `${formatBytes(e.bytes)} (${parts.join('; ')})`;
}
