// Pruning a causal LM larger than memory, in one pass over its file, a block at a time: the
// embeddings and head are read once; then each block is read, calibrated on the inputs the block
// before handed on (block-calibration.ts, sequential as the papers' reference code is), pruned
// (SparseGPT: reconstructed), written into the export, and freed. The evaluation rides along: its
// windows are carried through each block both as it was and as pruned, and the head turns the two
// into the dense and the pruned metric at the end. What is kept of each block's masks is counted,
// not held, so the memory is the head, one block and the activations, whatever the depth.
import * as tf from '@tensorflow/tfjs';
import { type HostTensor, mainDType } from '../model/checkpoint';
import { ffnSize, hiddenSize, isCausalLm, numHeads, numLayers, type CausalLmConfig } from '../model/config';
import { modelStages } from '../model/forward';
import { ForwardContext } from '../model/layers';
import type { LazyCheckpoint } from '../model/lazy-checkpoint';
import type { Weights } from '../model/types';
import { costReport } from '../model/cost';
import { calibrateBlockByBlock, type BlockStatistics, type Passenger } from '../pruning/block-calibration';
import type { CalibrationData } from '../pruning/calibration';
import { blockCapture, prunableLinears, pruneBlock, type UnstructuredRecipe } from '../pruning/unstructured';
import { evaluateLm, lmWindowBatch, lmWindowCount, type LmMetrics } from '../eval/metrics';
import { type MaskCount, maskCount, measuredSparsity, sizeReport } from '../eval/pruner';
import { type ExportedBlock, setTorchDtype, unusedNote, untieOrDrop } from '../export/checkpoint-export';
import { StreamedExport, type OpenSink } from '../export/streamed-export';
import type { StatisticsUse } from './kept-statistics';

/** A text's evaluation windows, as ModelSession.evaluate cuts them. */
export interface LmEvaluation {
  tokens: Int32Array;
  /** UTF-8 bytes of the whole text (bits per byte without tokenBytes). */
  bytes: number;
  context: number;
  stride: number;
  maxWindows?: number;
  tokenBytes?: (id: number) => number;
  /** Windows per batch (default 2: a batch's logits are windows × context × vocabulary floats, times four). */
  batchSize?: number;
}

export interface StreamedPruneInput {
  checkpoint: LazyCheckpoint;
  /** A recipe streamRefusal (catalogue.ts) lets through: per-block decisions only; null: the model is
   * only measured, as it is. */
  recipe: UnstructuredRecipe | null;
  /** Whether the evaluation is carried through the dense blocks too (default true; the pruned
   * model alone when the caller knows the dense metric already). */
  measureDense?: boolean;
  /** Null for methods that read no activations (magnitude, random). */
  calibration: CalibrationData | null;
  evaluation: LmEvaluation | null;
  /** One-shot statistics kept from an earlier pass, or a listener for this pass's (kept-statistics.ts). */
  statistics?: StatisticsUse;
  /** Where the export's weight files and masks go; none: nothing is written. */
  exportTo?: OpenSink | null;
  signal?: AbortSignal;
  onProgress?: (stage: string, fraction: number) => void;
}

/** What an export written by the pass needs besides its weight files, for config.json and recipe.json. */
export interface StreamedExportInfo {
  /** Every weight file and masks.safetensors, with sizes, in writing order. */
  files: { name: string; bytes: number }[];
  /** config.json's object. */
  config: Record<string, unknown>;
  notes: string[];
  blocks: ExportedBlock[];
  zero: number;
  prunable: number;
  params: { exported: number; nonzero: number };
}

export interface StreamedPruneResult {
  metric: LmMetrics | null;
  denseMetric: LmMetrics | null;
  /** Each prunable linear's kept weights, and whether its mask is 2:4. */
  counts: Map<string, MaskCount>;
  report: {
    params: number;
    nonzeroParams: number;
    sparsity: number;
    denseFlops: number;
    flops: number;
    bytes: ReturnType<typeof sizeReport>;
  } & ReturnType<typeof measuredSparsity>;
  /** The pass interleaves its stages; each is the time spent in it (the evaluation: carried through the
   * blocks and through the head). Reading the files counts in the total alone. */
  timeMs: { calibration: number; prune: number; evaluate: number; total: number };
  export: StreamedExportInfo | null;
  /** The most blocks' weights held at once (1: the pass streamed). */
  blocksHeld: number;
}

/** The names of `weights` that `run` reads. */
function readsOf(weights: Weights, run: (w: Weights) => tf.Tensor): Set<string> {
  const read = new Set<string>();
  const spy: Weights = new Map(weights);
  spy.get = (name: string) => {
    read.add(name);
    return weights.get(name);
  };
  tf.dispose(tf.tidy(() => run(spy)));
  return read;
}

const toTensors = (host: Map<string, HostTensor>): Weights =>
  new Map([...host].map(([n, t]) => [n, tf.tensor(t.data, t.shape)]));

/** Runs the pass; see the top of the file. Everything it made is freed when it ends, however it ends. */
export async function pruneStreamed(input: StreamedPruneInput): Promise<StreamedPruneResult> {
  const { checkpoint: ck, recipe, signal } = input;
  const config = ck.config;
  if (!isCausalLm(config)) throw new Error('a model read a block at a time must be a causal language model');
  if (!recipe && input.exportTo) throw new Error('an export needs a recipe');
  const c: CausalLmConfig = config;
  const layers = numLayers(c);
  const specs = prunableLinears(c);
  const stages = modelStages(c);
  const t0 = performance.now();
  const time = { calibration: 0, prune: 0, evaluate: 0 };
  // The evaluation rides through the blocks inside the calibration loop: its time there is counted apart.
  const timing = { carryMs: 0 };
  let stage = 'reading the embeddings and head';
  const progress = (f: number) => input.onProgress?.(stage, f);
  progress(0);

  const outside: Weights = new Map();
  const passengers: Passenger[] = [];
  let exporter: StreamedExport | null = null;
  let exportInfo: StreamedExportInfo | null = null;
  let held = 0;
  let maxHeld = 0;
  const put = async (name: string, t: HostTensor) => {
    await exporter!.put(name, t);
    exportInfo!.params.exported += t.data.length;
    for (let i = 0; i < t.data.length; i++) if (t.data[i] !== 0) exportInfo!.params.nonzero++;
  };
  try {
    // The export: laid out from the shapes before any value is read.
    const outsideNames = ck.outsideNames();
    let written = new Set(outsideNames);
    if (input.exportTo) {
      const raw: Record<string, unknown> = { ...c.raw };
      // A GPT-2 lm_head tied to wte is not written (untieOrDrop reads both, then lets them go).
      const head = ck.shapes.has('lm_head.weight')
        ? await ck.tensors(['lm_head.weight', ...outsideNames.filter((n) => n.endsWith('wte.weight'))], signal)
        : new Map<string, HostTensor>();
      const notes = [...unusedNote(ck.ignored), ...untieOrDrop(c, head, raw)];
      if (ck.shapes.has('lm_head.weight') && !head.has('lm_head.weight')) written.delete('lm_head.weight');
      head.clear();
      const shapes = new Map([...ck.shapes].filter(([n]) => written.has(n) || !outsideNames.includes(n)));
      setTorchDtype(raw, mainDType(new Map([...shapes].map(([n, shape]) => [n, { shape }])), ck.storage));
      exporter = await StreamedExport.open(
        shapes,
        ck.storage,
        specs.map((s) => s.weight),
        input.exportTo,
      );
      exportInfo = {
        files: exporter.files,
        config: raw,
        notes,
        blocks: [],
        zero: 0,
        prunable: 0,
        params: { exported: 0, nonzero: 0 },
      };
    } else written = new Set();
    // One tensor at a time: read, made a tensor, written out, and its host copy let go.
    for (const name of outsideNames) {
      const t = await ck.tensor(name, signal);
      outside.set(name, tf.tensor(t.data, t.shape));
      if (written.has(name)) await put(name, t);
    }

    // The evaluation's windows, embedded, twice: one copy goes through the dense blocks, one through the pruned.
    const ev = input.evaluation;
    const windows = ev ? lmWindowCount(ev.tokens.length, ev.context, ev.stride, ev.maxWindows) : 0;
    const batch = ev?.batchSize ?? 2;
    if (ev) {
      if (windows < 1) throw new Error(`the evaluation text needs more than ${ev.context} tokens`);
      if (recipe === null || input.measureDense !== false) passengers.push({ hidden: [], through: 'dense' });
      if (recipe !== null) passengers.push({ hidden: [], through: 'pruned' });
      const ctx = new ForwardContext(c, outside, {});
      for (let w0 = 0; w0 < windows; w0 += batch) {
        const m = Math.min(batch, windows - w0);
        const { inp } = lmWindowBatch(ev.tokens, ev, w0, m);
        const h = tf.tidy(() => stages.embed(ctx, tf.tensor2d(inp, [m, ev.context], 'int32')));
        for (const [i, p] of passengers.entries()) p.hidden.push(i === 0 ? h : tf.clone(h));
      }
    }

    const headReads = readsOf(outside, (w) =>
      stages.head(new ForwardContext(c, w, {}), tf.zeros([1, 1, hiddenSize(c)])),
    );
    const dropOutside = (name: string) => {
      outside.get(name)!.dispose();
      outside.delete(name);
    };
    const counts = new Map<string, MaskCount>();
    let host: Map<string, HostTensor> | null = null;
    let blockTensors: Weights | null = null;
    let blockStart = 0;
    let carriedAtStart = 0;
    const keptStats = input.statistics?.kept;
    const none: CalibrationData = { kind: 'lm', description: 'none', count: 0, length: 1, windows: new Int32Array(0) };
    const calibration: CalibrationData = (!keptStats && input.calibration) || none;
    const onBlock = async (gathered: BlockStatistics): Promise<Map<string, tf.Tensor> | null> => {
      time.calibration += performance.now() - blockStart - (timing.carryMs - carriedAtStart);
      if (recipe === null) return null;
      const stats = keptStats?.[gathered.layer] ?? gathered;
      if (!keptStats) input.statistics?.gathered?.(stats);
      stage = `block ${stats.layer + 1}/${layers}: pruning`;
      progress((stats.layer + 0.5) / layers);
      const p0 = performance.now();
      let zero = 0;
      let total = 0;
      const block = await pruneBlock(c, host!, recipe, stats, async (spec, mask, values) => {
        const count = maskCount(spec, mask);
        counts.set(spec.weight, count);
        zero += mask.length - count.kept;
        total += mask.length;
        if (exporter) {
          await put(spec.weight, values);
          await exporter.putMask(spec.weight, mask);
        }
        // Written and counted: its host copy and dense tensor (nothing reads it once the block is
        // pruned) can go before the next linear's are made.
        host!.delete(spec.weight);
        blockTensors?.get(spec.weight)?.dispose();
      });
      if (exporter) {
        const masked = new Set(specs.map((s) => s.weight));
        for (const [name, t] of host!) if (!masked.has(name)) await put(name, t);
        exportInfo!.zero += zero;
        exportInfo!.prunable += total;
        exportInfo!.blocks.push({
          sourceBlock: stats.layer,
          block: stats.layer,
          attention: true,
          mlp: true,
          heads: numHeads(c),
          removedHeads: [],
          neurons: ffnSize(c),
          targetSparsity: recipe.blockSparsity?.[stats.layer] ?? recipe.sparsity,
          sparsity: total ? zero / total : 0,
        });
      }
      time.prune += performance.now() - p0;
      stage = `block ${stats.layer + 1}/${layers}: carrying on`;
      return block.tensors;
    };
    await calibrateBlockByBlock(
      c,
      {
        outside,
        block: async (layer) => {
          // Every input is embedded by now: what only the embedding reads (an untied model's token
          // table, GPT-2's positions) makes room for the blocks.
          if (layer === 0) for (const name of [...outside.keys()]) if (!headReads.has(name)) dropOutside(name);
          stage = `block ${layer + 1}/${layers}: reading`;
          progress(layer / layers);
          host = await ck.block(layer, signal);
          held++;
          maxHeld = Math.max(maxHeld, held);
          stage = `block ${layer + 1}/${layers}: ${calibration.count > 0 ? 'calibrating' : recipe ? 'pruning' : 'measuring'}`;
          progress((layer + 0.1) / layers);
          blockStart = performance.now();
          carriedAtStart = timing.carryMs;
          blockTensors = toTensors(host);
          return blockTensors;
        },
        release: (_layer, w) => {
          tf.dispose([...w.values()]);
          host = null;
          held--;
        },
      },
      calibration,
      onBlock,
      {
        mode: recipe && !keptStats ? (recipe.calibrationMode ?? 'sequential') : 'one-shot',
        capture: recipe && !keptStats ? blockCapture(recipe) : {},
        passengers,
        signal,
        timing,
      },
    );
    await exporter?.finish();

    // The head on what the blocks handed on.
    let metric: LmMetrics | null = null;
    let denseMetric: LmMetrics | null = null;
    if (ev) {
      const e0 = performance.now();
      const ctx = new ForwardContext(c, outside, {});
      const measure = (p: Passenger, what: string) => {
        stage = `evaluating the ${what} model`;
        return evaluateLm(c, outside, ev.tokens, ev.bytes, {
          context: ev.context,
          stride: ev.stride,
          maxWindows: ev.maxWindows,
          tokenBytes: ev.tokenBytes,
          batchSize: batch,
          signal,
          onProgress: progress,
          logitsOf: (_input, first) => stages.head(ctx, p.hidden[first / batch]),
        });
      };
      const dense = passengers.find((p) => p.through === 'dense');
      const pruned = passengers.find((p) => p.through === 'pruned');
      if (dense) denseMetric = await measure(dense, 'dense');
      if (pruned) metric = await measure(pruned, 'pruned');
      time.evaluate += performance.now() - e0 + timing.carryMs;
    }

    const cost = costReport(c, { keptWeights: new Map([...counts].map(([n, k]) => [n, k.kept])) });
    const prunable = specs.reduce((a, s) => a + s.inFeatures * s.outFeatures, 0);
    const kept = [...counts.values()].reduce((a, k) => a + k.kept, 0);
    return {
      metric,
      denseMetric,
      counts,
      report: {
        params: cost.params,
        nonzeroParams: cost.nonzeroParams,
        sparsity: 1 - kept / prunable,
        denseFlops: cost.denseFlops,
        flops: cost.flops,
        bytes: sizeReport(c, counts, recipe?.quant ?? null),
        ...measuredSparsity(c, counts),
      },
      timeMs: { ...time, total: performance.now() - t0 },
      export: exportInfo,
      blocksHeld: maxHeld,
    };
  } catch (e) {
    await exporter?.abandon();
    throw e;
  } finally {
    tf.dispose([...outside.values()]);
    for (const p of passengers) tf.dispose(p.hidden);
  }
}
