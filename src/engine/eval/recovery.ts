// Recovery of a pruned model on a pruner's session: the training data (the calibration examples,
// the slice of its training data the model ships with, or the user's own), the held-out metric on
// the session's eval set, and what a report, the CLI and the page need of the run
// (recovery/recover.ts does the training).
import * as tf from '@tensorflow/tfjs';
import type { DataSet } from '../data/datasets';
import type { HostTensor } from '../model/checkpoint';
import { isCausalLm, sequenceLength } from '../model/config';
import type { ModelMasks, Weights } from '../model/types';
import type { CalibrationData } from '../pruning/calibration';
import type { UnstructuredResult } from '../pruning/unstructured';
import type { StructuredPlan } from '../pruning/structured/recipe';
import { lmTrainingWindows, trainingBatches } from '../recovery/batches';
import { disposeLora, hostLora, type LoraAdapters } from '../recovery/lora';
import { type RecoveryModeId, recoveryModeEntry } from '../recovery/modes';
import {
  type CurvePoint,
  RecoveryError,
  type RecoveryMode,
  type RecoveryProgress,
  type RecoverySettings,
  recover,
} from '../recovery/recover';
import { encodeText } from '../session';
import { headlineOf } from './headline';
import type { Metrics } from './metrics';
import type { Pruner, PruneRecipe, StructuredPruneRecipe } from './pruner';

/** Where the training examples come from. */
export type RecoveryDataSource =
  | { source: 'calibration' }
  | { source: 'train' }
  | { source: 'custom'; set: DataSet; name: string };

/**
 * A recovery as the CLI, the page and the share link state it: plain values only, so that it
 * serialises and the same request reproduces the same run (the seed fixes the batches and LoRA's
 * initialisation).
 */
export interface RecoveryRequest {
  mode: RecoveryModeId;
  /** Optimizer updates. */
  steps: number;
  /** The peak learning rate; default: the mode's (modes.ts). */
  learningRate?: number;
  /** Updates of linear warm-up before the cosine decay; default: a tenth of the steps. */
  warmupSteps?: number;
  /** Examples per update. */
  batchSize: number;
  seed: number;
  /** Measure the held-out metric every this many updates; default 0: before and after only. */
  evalEvery?: number;
  /** Report the training loss every this many updates (default 10). */
  logEvery?: number;
  /** Distillation (and LoRA with `distill`): the temperature, default 2. */
  temperature?: number;
  /** Distillation: weight of the hidden-state MSE, default 0. */
  hiddenWeight?: number;
  /** LoRA: rank (default 8), alpha (default 2 × rank), the linears (default: those the recipe pruned). */
  rank?: number;
  alpha?: number;
  targets?: string[];
  /** LoRA trained by distillation from the dense model instead of on the task's loss. */
  distill?: boolean;
  data: RecoveryDataSource;
}

/** The request with its defaults filled in, as reports and recipe.json state it (a custom set by name). */
export type ResolvedRecovery = Required<
  Omit<RecoveryRequest, 'data' | 'targets' | 'temperature' | 'hiddenWeight' | 'rank' | 'alpha' | 'distill'>
> &
  Pick<RecoveryRequest, 'targets' | 'temperature' | 'hiddenWeight' | 'rank' | 'alpha' | 'distill'> & {
    data: 'calibration' | 'train' | string;
  };

export function resolveRecovery(r: RecoveryRequest): ResolvedRecovery {
  const distills = r.mode === 'distill' || (r.mode === 'lora' && r.distill === true);
  const rank = r.mode === 'lora' ? (r.rank ?? 8) : undefined;
  return {
    mode: r.mode,
    steps: r.steps,
    learningRate: r.learningRate ?? recoveryModeEntry(r.mode).defaultLearningRate,
    warmupSteps: r.warmupSteps ?? Math.floor(r.steps / 10),
    batchSize: r.batchSize,
    seed: r.seed,
    evalEvery: r.evalEvery ?? 0,
    logEvery: r.logEvery ?? 10,
    ...(distills ? { temperature: r.temperature ?? 2, hiddenWeight: r.hiddenWeight ?? 0 } : {}),
    ...(rank !== undefined
      ? { rank, alpha: r.alpha ?? 2 * rank, targets: r.targets, distill: r.distill ?? false }
      : {}),
    data: r.data.source === 'custom' ? r.data.name : r.data.source,
  };
}

/** The engine's settings of a resolved request; distillation's teacher is the dense model. */
function settingsOf(r: ResolvedRecovery, teacher: Weights): RecoverySettings {
  const distill =
    r.temperature !== undefined ? { teacher, temperature: r.temperature, hiddenWeight: r.hiddenWeight } : undefined;
  const mode: RecoveryMode =
    r.mode === 'finetune'
      ? { kind: 'finetune' }
      : r.mode === 'distill'
        ? { kind: 'distill', ...distill! }
        : { kind: 'lora', rank: r.rank!, alpha: r.alpha!, targets: r.targets, distill };
  return {
    mode,
    steps: r.steps,
    learningRate: r.learningRate,
    warmupSteps: r.warmupSteps,
    seed: r.seed,
    logEvery: r.logEvery,
    evalEvery: r.evalEvery,
  };
}

/** A pruned model as the pruner hands it back: per-weight masks (and values), or a structured plan. */
export type PrunedModel = { result: UnstructuredResult } | { plan: StructuredPlan };

export interface RecoveryReport {
  recovery: ResolvedRecovery;
  /** The training examples, in words. */
  data: string;
  /** How many there are (windows or images). */
  examples: number;
  /** How many times the updates done went over them (updates × batch ÷ examples). */
  passes: number;
  /** The eval set's metric of the pruned model before recovery and of the returned weights. */
  before: Metrics;
  after: Metrics;
  lossCurve: CurvePoint[];
  /** The held-out metric (accuracy, or bits per byte) at step 0 and at each evaluation. */
  metricCurve: CurvePoint[];
  stepsDone: number;
  /** Updates behind the returned weights (the best measured ones when cancelled). */
  step: number;
  aborted: boolean;
  /** The whole run, evaluations included. */
  timeMs: number;
  /** One update's time (forward, backward, optimizer), evaluations left out. */
  msPerStep: number | null;
}

export interface Recovered {
  report: RecoveryReport;
  /** Every checkpoint tensor after the run (masked: what was removed stays 0). */
  weights: Map<string, HostTensor>;
  /** LoRA: the adapters behind `weights` (already merged into them). */
  adapters: LoraAdapters<HostTensor> | null;
}

/** The training examples of a request, as calibration data (recovery/batches.ts draws the batches). */
async function trainingData(pruner: Pruner, request: RecoveryRequest, spec: PrunedSpec): Promise<CalibrationData> {
  const s = pruner.session;
  const c = s.config;
  if (request.data.source === 'calibration') return pruner.calibration(pruner.calibSpec(spec));
  const set = request.data.source === 'train' ? s.calibSet : request.data.set;
  const name = request.data.source === 'train' ? 'the training slice' : request.data.name;
  if (!set)
    throw new RecoveryError(
      'this model ships no training slice (calib.safetensors): recover on the calibration data or your own',
    );
  if (isCausalLm(c)) {
    if (set.kind !== 'text') throw new RecoveryError(`${name} is images; this model reads text`);
    const length = pruner.calibSpec(spec).length ?? sequenceLength(c);
    const windows = lmTrainingWindows(encodeText(s.checkpoint.tokenizer!, set), length);
    return { ...windows, description: `${windows.description} of ${name}` };
  }
  if (set.kind !== 'images') throw new RecoveryError(`${name} is text; this model reads images`);
  return {
    kind: 'images',
    description: `${set.count} labelled images of ${name}`,
    count: set.count,
    pixels: set.pixels,
    labels: set.labels,
    ...(set.normalization ? { normalization: set.normalization } : {}),
  };
}

/** The recipe the model was pruned by: recovering on 'calibration' reads its calibration data. */
type PrunedSpec = PruneRecipe | StructuredPruneRecipe;

/**
 * Trains what the pruned model kept (recovery/recover.ts), measuring the session's eval set before,
 * every `settings.evalEvery` updates and after. A cancelled run hands back the best weights it
 * measured, with `aborted`.
 */
export async function recoverPruned(
  pruner: Pruner,
  pruned: PrunedModel,
  spec: PrunedSpec,
  request: RecoveryRequest,
  opts: { signal?: AbortSignal; onProgress?: (p: RecoveryProgress) => void } = {},
): Promise<Recovered> {
  const s = pruner.session;
  const started = performance.now();
  if ('plan' in pruned && pruned.plan.tokenKeep?.some((r) => r < 1))
    throw new RecoveryError(
      'token pruning removes no weights and changes the input each pass: there is nothing to recover',
    );
  const data = await trainingData(pruner, request, spec);
  const resolved = resolveRecovery(request);
  const settings = settingsOf(resolved, s.weights);
  const batches = trainingBatches(data, resolved.batchSize, resolved.seed);
  const run = async (weights: Weights, masks: ModelMasks | undefined): Promise<Recovered> => {
    // The weights are masked weight by weight already (recover() keeps them so): evaluations need
    // only the masks of structure.
    const structure: ModelMasks | undefined = masks && { ...masks, weights: undefined };
    // Every measurement's whole metrics, in the order of the run's metric curve.
    const measured: Metrics[] = [];
    const result = await recover({
      config: s.config,
      weights,
      masks,
      batches,
      settings,
      evaluate: {
        run: async (w) => {
          const m = await s.evaluateWith(w, { masks: structure });
          measured.push(m);
          return headlineOf(m);
        },
        higherIsBetter: s.config.kind === 'vit',
      },
      onProgress: opts.onProgress,
      signal: opts.signal,
    });
    try {
      const at = result.metricCurve.map((p) => p.step).lastIndexOf(result.step);
      const after = at >= 0 ? measured[at] : await s.evaluateWith(result.weights, { masks: structure });
      const host = new Map<string, HostTensor>();
      for (const [name, t] of result.weights)
        host.set(name, { shape: t.shape.slice(), data: (await t.data()) as Float32Array });
      return {
        report: {
          recovery: resolved,
          data: data.description,
          examples: data.count,
          passes: (result.stepsDone * resolved.batchSize) / data.count,
          before: measured[0],
          after,
          lossCurve: result.lossCurve,
          metricCurve: result.metricCurve,
          stepsDone: result.stepsDone,
          step: result.step,
          aborted: result.aborted,
          timeMs: performance.now() - started,
          msPerStep: result.msPerStep,
        },
        weights: host,
        adapters: result.adapters ? await hostLora(result.adapters) : null,
      };
    } finally {
      tf.dispose([...result.weights.values()]);
      if (result.adapters) disposeLora(result.adapters);
    }
  };
  if ('result' in pruned) {
    // bool: a quarter of the memory of 0/1 floats, and what a masked select reads as it is.
    const masks = new Map<string, tf.Tensor>();
    for (const [name, m] of pruned.result.masks) masks.set(name, tf.tensor(m, s.weights.get(name)!.shape, 'bool'));
    try {
      return await pruner.withPruned(pruned.result, (w) => run(w, { weights: masks }));
    } finally {
      tf.dispose([...masks.values()]);
    }
  }
  return run(s.weights, pruned.plan.masks);
}

/**
 * recipe.json's notes on a recovery: what the stored weights are and, after LoRA, how the adapter
 * (its PEFT files at `adapterAt`) relates to them. The CLI and the page export both write these.
 */
export function recoveryNotes(recovered: Recovered, adapterAt: string): string[] {
  const r = recovered.report;
  const notes = [
    `recovered: ${r.recovery.mode}, ${r.stepsDone} steps on ${r.data}${r.aborted ? ` (cancelled; the weights of step ${r.step}, the best measured)` : ''}; the weights stored are the recovered ones, and every weight the recipe removed is still 0`,
  ];
  if (recovered.adapters)
    notes.push(
      `${adapterAt} holds the LoRA adapter in PEFT's format, for the pruned model before recovery (this recipe exported without recovering). The weights stored here are that model with the adapter merged and the mask applied again: merging with PEFT (merge_and_unload) instead adds the low-rank update to the pruned weights too, so they are no longer 0.`,
    );
  return notes;
}
