// Calibration data and the statistics pruning methods read from it: per-feature input norms
// (Wanda), input Gram matrices (SparseGPT), loss gradients (Taylor). The user picks the source and
// the count; the engine says exactly what it used.
import * as tf from '@tensorflow/tfjs';
import { isCausalLm, type ModelConfig, outputClasses, sequenceLength } from '../model/config';
import type { DataSet } from '../data/datasets';
import type { Tokenizer } from '../model/tokenizer';
import { forward } from '../model/forward';
import type { ModelMasks, Weights } from '../model/types';
import { crossEntropySum } from '../model/loss';
import { type ImageNormalization, pixelsToInput } from '../model/preprocess';
import { randomScores } from './random';
import { byteLengths, TooShortError, windowAt } from './calibration-windows';

export type CalibrationSource = 'train' | 'held-out' | 'random' | 'custom';

export interface CalibrationSpec {
  source: CalibrationSource;
  /** Examples: sequences of the model's context for text, images for images. */
  count: number;
  seed?: number;
  /** The user's own text or images, for source 'custom'. */
  custom?: DataSet;
  /** Tokens per text window (default: the model's context, at most DEFAULT_WINDOW). */
  length?: number;
}

export type CalibrationData =
  | {
      kind: 'lm';
      description: string;
      count: number;
      length: number /** [count, length + 1] token ids */;
      windows: Int32Array;
    }
  | {
      kind: 'images';
      description: string;
      count: number;
      pixels: Uint8Array /** null: no labels (noise, user images) */;
      labels: Uint8Array | null;
      /** How the pixels become the model's input when not ViTImageProcessor's default. */
      normalization?: ImageNormalization;
    };

export class CalibrationError extends Error {}

export interface CalibrationSets {
  train: DataSet | null;
  heldOut: DataSet | null;
  tokenizer: Tokenizer | null;
}

function pickSet(spec: CalibrationSpec, sets: CalibrationSets): DataSet {
  const set = spec.source === 'train' ? sets.train : spec.source === 'held-out' ? sets.heldOut : spec.custom;
  if (!set) throw new CalibrationError(`no ${spec.source} data is available for calibration`);
  return set;
}

export function makeCalibration(config: ModelConfig, spec: CalibrationSpec, sets: CalibrationSets): CalibrationData {
  if (!Number.isInteger(spec.count) || spec.count < 1)
    throw new CalibrationError(`calibration count must be a positive integer, got ${spec.count}`);
  const seed = spec.seed ?? 0;
  const rand = randomScores(spec.count * 2, seed + 17);
  if (isCausalLm(config)) {
    const t = spec.length ?? sequenceLength(config);
    if (!Number.isInteger(t) || t < 1 || t > sequenceLength(config))
      throw new CalibrationError(
        `a calibration window of ${t} tokens does not fit the model's ${sequenceLength(config)}`,
      );
    const windows = new Int32Array(spec.count * (t + 1));
    if (spec.source === 'random') {
      const r = randomScores(windows.length, seed + 29);
      for (let i = 0; i < windows.length; i++) windows[i] = Math.floor(r[i] * config.vocabSize);
      return {
        kind: 'lm',
        description: `${spec.count} sequences of ${t} uniformly random tokens (seed ${seed})`,
        count: spec.count,
        length: t,
        windows,
      };
    }
    const set = pickSet(spec, sets);
    if (set.kind !== 'text')
      throw new CalibrationError(`the ${spec.source} calibration data is images; this model reads text`);
    const tokenizer = sets.tokenizer!;
    const text = tokenizer.encodePieces(new TextDecoder().decode(set.bytes));
    const bytes = text.byteStarts[text.byteStarts.length - 1];
    const lengths = byteLengths(tokenizer);
    for (let i = 0; i < spec.count; i++) {
      const at = Math.floor(rand[i] * Math.max(1, bytes - t));
      let window: number[];
      try {
        window = windowAt(text, lengths, at, t + 1);
      } catch (e) {
        if (!(e instanceof TooShortError)) throw e;
        throw new CalibrationError(
          `the ${spec.source} text has ${e.tokens} tokens; calibration needs at least ${t + 1}`,
        );
      }
      windows.set(window, i * (t + 1));
    }
    return {
      kind: 'lm',
      description: `${spec.count} windows of ${t} tokens at random offsets (seed ${seed}) in the ${spec.source} text (${bytes} bytes)`,
      count: spec.count,
      length: t,
      windows,
    };
  }
  const per = config.numChannels * config.imageSize * config.imageSize;
  const pixels = new Uint8Array(spec.count * per);
  if (spec.source === 'random') {
    const r = randomScores(pixels.length, seed + 29);
    for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(r[i] * 256);
    return {
      kind: 'images',
      description: `${spec.count} images of uniform noise (seed ${seed})`,
      count: spec.count,
      pixels,
      labels: null,
    };
  }
  const set = pickSet(spec, sets);
  if (set.kind !== 'images')
    throw new CalibrationError(`the ${spec.source} calibration data is text; this model reads images`);
  const labels = spec.source === 'custom' ? null : new Uint8Array(spec.count);
  // Without replacement while the set lasts, in a seeded order.
  const key = randomScores(set.count, seed + 41);
  const order = Array.from({ length: set.count }, (_, i) => i).sort((a, b) => key[a] - key[b] || a - b);
  for (let i = 0; i < spec.count; i++) {
    const src = order[i % set.count];
    pixels.set(set.pixels.subarray(src * per, (src + 1) * per), i * per);
    if (labels) labels[i] = set.labels[src];
  }
  const repeats = spec.count > set.count ? ` (the set has ${set.count}; some repeat)` : '';
  return {
    kind: 'images',
    description: `${spec.count} ${spec.source} images${repeats} (seed ${seed})`,
    count: spec.count,
    pixels,
    labels,
    ...(set.normalization ? { normalization: set.normalization } : {}),
  };
}

/** Tokens (rows of every linear layer's input) one pass over the calibration data feeds. */
export function calibrationTokens(config: ModelConfig, data: CalibrationData): number {
  return data.kind === 'lm'
    ? data.count * data.length
    : data.count * (config.kind === 'vit' ? (config.imageSize / config.patchSize) ** 2 + 1 : 1);
}

/** The input tensor and loss targets of calibration examples [start, end). */
export function batchTensors(
  config: ModelConfig,
  data: CalibrationData,
  start: number,
  end: number,
): { input: tf.Tensor; targets: tf.Tensor | null } {
  const m = end - start;
  if (data.kind === 'lm') {
    const t = data.length;
    const inp = new Int32Array(m * t);
    const tgt = new Int32Array(m * t);
    for (let i = 0; i < m; i++) {
      const w = data.windows.subarray((start + i) * (t + 1), (start + i + 1) * (t + 1));
      inp.set(w.subarray(0, t), i * t);
      tgt.set(w.subarray(1), i * t);
    }
    return { input: tf.tensor2d(inp, [m, t], 'int32'), targets: tf.tensor1d(tgt, 'int32') };
  }
  if (config.kind !== 'vit') throw new CalibrationError('image calibration data for a text model');
  const per = config.numChannels * config.imageSize ** 2;
  return {
    input: pixelsToInput(config, data.pixels.subarray(start * per, end * per), m, data.normalization),
    targets: data.labels ? tf.tensor1d(data.labels.subarray(start, end), 'int32') : null,
  };
}

/** How a pass over the calibration data runs: examples per batch, cancellation, progress. */
export interface BatchOptions {
  /** Default: 8 windows of text, 64 images. */
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

/** One batch of calibration examples [start, end) as tensors, valid during the step that gets it. */
export interface CalibrationBatch {
  input: tf.Tensor;
  /** Token or label targets; null for unlabelled images. */
  targets: tf.Tensor | null;
  start: number;
  end: number;
}

export const defaultBatchSize = (data: CalibrationData): number => (data.kind === 'lm' ? 8 : 64);

/**
 * The one loop over calibration data: `step` gets each batch in order; cancellation is checked
 * before each batch and progress reported after it; the batch's tensors are freed after its step.
 */
export async function forEachBatch(
  config: ModelConfig,
  data: CalibrationData,
  opts: BatchOptions,
  step: (batch: CalibrationBatch) => Promise<void>,
): Promise<void> {
  const size = opts.batchSize ?? defaultBatchSize(data);
  for (let start = 0; start < data.count; start += size) {
    opts.signal?.throwIfAborted();
    const end = Math.min(data.count, start + size);
    const { input, targets } = batchTensors(config, data, start, end);
    try {
      await step({ input, targets, start, end });
    } finally {
      tf.dispose(targets ? [input, targets] : [input]);
    }
    opts.onProgress?.(end / data.count);
  }
}

/** Options of the statistics passes: the batch loop's, plus masks the model runs under. */
export interface StatsOptions extends BatchOptions {
  masks?: ModelMasks;
}

/** Adds `values` into the running sum of `name`. */
export function addInto(acc: Map<string, Float32Array>, name: string, values: Float32Array): void {
  const a = acc.get(name);
  if (!a) acc.set(name, values.slice());
  else for (let i = 0; i < a.length; i++) a[i] += values[i];
}

/**
 * Mean cross-entropy of each example's predictions (every position of an LM window, or the image's
 * label), summed over the examples: unlabelled images take the model's own prediction as target (the
 * loss then measures how far a change moves the model from itself, which is what pruning needs).
 */
export function exampleLossSum(
  config: ModelConfig,
  logits: tf.Tensor,
  targets: tf.Tensor | null,
  examples: number,
): tf.Scalar {
  const classes = outputClasses(config);
  const flat = tf.reshape(logits, [-1, classes]);
  const y = targets ?? tf.argMax(flat, -1); // integer labels: no gradient flows through them
  const nll = tf.neg(tf.sum(tf.mul(tf.oneHot(y, classes), tf.logSoftmax(flat)), -1));
  return tf.sum(tf.mean(tf.reshape(nll, [examples, -1]), 1)) as tf.Scalar;
}

/**
 * Gradients of the calibration loss for the named weights, for the two first-order scores:
 * - `mean`: ∂L/∂W of the mean loss over all calibration examples (LLM-Pruner's ḡ);
 * - `squaredSum`: Σ over examples of (∂L_x/∂W)², each example its own minibatch (Molchanov et
 *   al. 2019 accumulate (w·g)² over minibatches; w² factors out of the sum).
 * One backward pass per batch for `mean`, one per example for `squaredSum`.
 */
export async function collectGradients(
  config: ModelConfig,
  weights: Weights,
  data: CalibrationData,
  names: string[],
  kind: 'mean' | 'squaredSum',
  opts: StatsOptions = {},
): Promise<Map<string, Float32Array>> {
  const grads = new Map<string, Float32Array>();
  await forEachBatch(config, data, kind === 'mean' ? opts : { ...opts, batchSize: 1 }, async (b) => {
    const gs = tf.tidy(() => {
      const f = (...ws: tf.Tensor[]) => {
        const local = new Map(weights);
        names.forEach((n, i) => {
          local.set(n, ws[i]);
        });
        const logits = forward(config, local, b.input, { masks: opts.masks, oneHotEmbedding: true }).logits;
        return tf.div(exampleLossSum(config, logits, b.targets, b.end - b.start), data.count) as tf.Scalar;
      };
      const g = tf.grads(f)(names.map((n) => weights.get(n)!));
      // Each example's loss was divided by the count for the mean; undo that for its own gradient.
      return kind === 'mean' ? g : g.map((t) => tf.square(tf.mul(t, data.count)));
    });
    for (let i = 0; i < names.length; i++) addInto(grads, names[i], (await gs[i].data()) as Float32Array);
    tf.dispose(gs);
  });
  return grads;
}

/** Mean cross-entropy per prediction over the calibration data (self-predicted targets where there are no labels). */
export async function calibrationLoss(
  config: ModelConfig,
  weights: Weights,
  data: CalibrationData,
  opts: StatsOptions = {},
): Promise<number> {
  const classes = outputClasses(config);
  let nll = 0;
  let rows = 0;
  await forEachBatch(config, data, opts, async (b) => {
    const [lossT, n] = tf.tidy(() => {
      const flat = tf.reshape(forward(config, weights, b.input, { masks: opts.masks }).logits, [-1, classes]);
      return [crossEntropySum(flat, b.targets ?? tf.argMax(flat, -1), classes), flat.shape[0]] as const;
    });
    nll += (await lossT.data())[0];
    lossT.dispose();
    rows += n;
  });
  return nll / rows;
}

/**
 * Unlabelled images (noise, the user's own) get the dense model's predictions as labels, so losses
 * measured later on the pruned model say how far pruning moved it from the dense one.
 */
export async function withDenseLabels(
  config: ModelConfig,
  weights: Weights,
  data: CalibrationData,
): Promise<CalibrationData> {
  if (data.kind !== 'images' || data.labels) return data;
  const labels = new Uint8Array(data.count);
  await forEachBatch(config, data, {}, async (b) => {
    const pred = tf.tidy(() => tf.argMax(forward(config, weights, b.input).logits, -1));
    labels.set(await pred.data(), b.start);
    pred.dispose();
  });
  return { ...data, labels, description: `${data.description}, labelled by the dense model's predictions` };
}
