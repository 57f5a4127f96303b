// The worker's side of recovery after pruning: a page's request turned into the engine's (the data
// it names: the user's own is held here, not sent again), the run's stream turned into progress the
// page shows, and what an export of the recovered model writes. engine.worker.ts holds the state.
import type { DataSet } from '../engine/data/datasets';
import { type Recovered, type RecoveryDataSource, type RecoveryReport, recoverPruned } from '../engine/eval/recovery';
import type { Pruner } from '../engine/eval/pruner';
import { exportPeftAdapter } from '../engine/export/peft';
import type { HostTensor } from '../engine/model/checkpoint';
import type { ModelConfig } from '../engine/model/config';
import type { UnstructuredResult } from '../engine/pruning/unstructured';
import type { StructuredPlan } from '../engine/pruning/structured/recipe';
import type { ProgressFn, RecoverRequest, RecoveryResult } from './api';

/** Data the user gave the model to be measured on, which a recovery may train on. */
export interface OwnData {
  set: DataSet;
  /** In words: "your 3 files". */
  name: string;
}

/** A finished (or cancelled) recovery of the last measured configuration, for an export of it. */
export interface HeldRecovery {
  /** recoveryKey of its request. */
  key: string;
  recovered: Recovered;
}

/** One request, one key: the recipe and every setting. */
export const recoveryKey = (request: RecoverRequest): string => JSON.stringify(request);

/** The training examples the request names; the user's own only when they gave some. */
export function dataSourceOf(request: RecoverRequest, own: OwnData | null): RecoveryDataSource {
  const data = request.recovery.data;
  if (data !== 'custom') return { source: data };
  if (!own)
    throw new Error(
      'no data of your own is loaded: give the model a data file (under its baseline) first, or recover on the calibration data or the training slice',
    );
  return { source: 'custom', set: own.set, name: own.name };
}

/**
 * Runs the request on the pruned model (its per-weight result or structured plan), streaming each
 * reported loss and metric to the page as progress.
 */
export async function runRecovery(
  pruner: Pruner,
  pruned: { result?: UnstructuredResult; plan?: StructuredPlan },
  request: RecoverRequest,
  own: OwnData | null,
  signal: AbortSignal,
  onProgress: ProgressFn,
): Promise<{ recovered: Recovered; answer: RecoveryResult }> {
  const steps = request.recovery.steps;
  onProgress({ label: 'Preparing the training data', fraction: 0 });
  const model = pruned.result ? { result: pruned.result } : pruned.plan ? { plan: pruned.plan } : null;
  if (!model) throw new Error('the configuration changes no weights: there is nothing to recover');
  const recovered = await recoverPruned(
    pruner,
    model,
    request.recipe.recipe,
    { ...request.recovery, data: dataSourceOf(request, own) },
    {
      signal,
      onProgress: (p) =>
        onProgress(
          p.kind === 'loss'
            ? { label: `Training: step ${p.step} of ${steps}`, fraction: p.step / steps, recovery: p }
            : { label: `Measured at step ${p.step} of ${steps}`, fraction: p.step / steps, recovery: p },
        ),
    },
  );
  return {
    recovered,
    answer: { report: recovered.report, adapted: recovered.adapters ? [...recovered.adapters.layers.keys()] : [] },
  };
}

/** What an export of a recovered model adds: its weights, its report, and after LoRA the PEFT adapter files. */
export function recoveredExport(
  config: ModelConfig,
  held: HeldRecovery,
  baseModel: string | null,
): { replaced: Map<string, HostTensor>; recovery: RecoveryReport; files: Map<string, Uint8Array> } {
  const { recovered } = held;
  return {
    replaced: recovered.weights,
    recovery: recovered.report,
    files: recovered.adapters ? exportPeftAdapter(config, recovered.adapters, baseModel) : new Map(),
  };
}
