// The page's handle on the engine worker. The UI imports only this module: it starts the worker,
// wraps it with comlink, and turns each long call into a Job that can be cancelled.
import * as Comlink from 'comlink';
import type {
  BackendInfo,
  BackendName,
  CachedModel,
  DroppedFile,
  PickedFile,
  RemoteRef,
  EngineApi,
  EvalInputs,
  ExportedFile,
  InspectRequest,
  InspectResult,
  Metrics,
  OpenResult,
  Progress,
  ProgressFn,
  WorkbenchRecipe,
  WorkbenchReport,
  RecoverRequest,
  RecoveryResult,
} from './api';

export type {
  BackendInfo,
  BackendName,
  CachedModel,
  DroppedFile,
  RemoteRef,
  ExportedFile,
  Metrics,
  OpenResult,
  Progress,
  ProgressFn,
  WorkbenchRecipe,
  WorkbenchReport,
};
export type { PruneRecipe, PruneReport, StructuredPruneRecipe, StructuredReport } from './api';
export type { BlockCost, ClassifierMetrics, CostReport, LinearCost, LmMetrics, ModelSummary } from './api';
export type { CalibrationSpec, MapImportance, PrunedShares } from './api';
export type { DeviceEvent, PartialMetrics } from './api';
export type {
  CurvePoint,
  RecoverRequest,
  RecoveryModeId,
  RecoveryProgress,
  RecoveryReport,
  RecoveryResult,
} from './api';
import type { DeviceEvent } from './api';
import type { ModelSummary } from './api';
export { LONGEST_WINDOW, SHIPPED_TEXT } from './api';
export { TAB_MEMORY_BUDGET } from './helpers';
export { largestFittingBatch, recoveryMemory } from '../engine/recovery/memory';
export { passesText, pastItsPeak } from '../engine/eval/recovery-report';
export { headlineOf } from '../engine/eval/headline';
import type { CalibrationSpec, MapImportance, PrunedShares } from './api';
export type {
  Histogram,
  LayerDetail,
  LayerDetailRequest,
  LayerThreshold,
  MaskImage,
  SensitivityCurve,
  SensitivityRequest,
  SensitivityResult,
} from './api';
import type { LayerDetail, LayerDetailRequest, SensitivityRequest, SensitivityResult } from './api';
export type {
  AttentionMaps,
  ClassPredictions,
  EvalInputs,
  HeadAttention,
  InspectedInput,
  InspectRequest,
  InspectResult,
  InspectSource,
  InspectView,
  LayerAttention,
  NextTokenPredictions,
  Saliency,
  SaliencyScores,
} from './api';

/** A long call in flight. `result` rejects with an AbortError (see isAbortError) after `cancel()`. */
export interface Job<T> {
  id: number;
  result: Promise<T>;
  cancel(): void;
}

import { abortError, isAbortError } from '../engine/abort';

export { abortError, isAbortError };

// The page reads and resolves model sources exactly as the worker and the command line do.
export {
  DEFAULT_HUB,
  formatHubId,
  HUB_PREFIX,
  normalizeFolderUrl,
  normalizeHub,
  parseHubId,
  parseRemote,
  remoteBaseUrl,
  remoteName,
  SourceError,
} from '../engine/hub';

/** The message to show for a failed call: the engine's own words. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

export interface EngineClient {
  init(preferred?: BackendName, threads?: number | null): Promise<BackendInfo>;
  openDefault(id: string, onProgress?: ProgressFn): Job<OpenResult>;
  /** Hands the files over; the worker reads them (a model too big for the tab whole, by ranges). */
  openFiles(files: readonly (File | DroppedFile)[], onProgress?: ProgressFn, expectDigest?: string): Job<OpenResult>;
  /** A hub model (resolved against `hub`) or a folder URL: from the browser's cache, else downloaded. */
  openRemote(source: RemoteRef, hub: string, onProgress?: ProgressFn): Job<OpenResult>;
  cachedModels(): Promise<CachedModel[]>;
  deleteCachedModel(base: string): Promise<void>;
  evaluate(onProgress?: ProgressFn): Job<Metrics>;
  /** The memory a model opened from files later may take whole, as a size such as "800MB" (null: the tab's default). */
  useMemoryBudget(size: string | null): Promise<number>;
  /**
   * Measures the model on the user's files (read here, paths from a chosen folder kept) or on the
   * shipped text from now on; resolves with the model's summary, its new eval set in it.
   */
  useEvalData(
    source: { kind: 'files'; files: readonly (File | DroppedFile)[] } | { kind: 'shipped-text' },
    onProgress?: ProgressFn,
  ): Job<ModelSummary>;
  /** Cuts the evaluation text into windows of `tokens` (null: the model's sequence); resolves with the summary. */
  useWindow(tokens: number | null): Promise<ModelSummary>;
  /** Prunes and measures; starting a new prune cancels the previous one (its result rejects as cancelled). */
  prune(recipe: WorkbenchRecipe, onProgress?: ProgressFn): Job<WorkbenchReport>;
  /** Streams one report per amount to `onPoint`; resolves with the number of points measured. */
  sweep(
    base: WorkbenchRecipe,
    amounts: number[],
    onPoint: (report: WorkbenchReport, index: number) => void,
    onProgress?: ProgressFn,
  ): Job<number>;
  /** The checkpoint's files; given `recovery`, those of that recovery (the last one run) of the recipe. */
  exportFiles(recipe: WorkbenchRecipe, onProgress?: ProgressFn, recovery?: RecoverRequest | null): Job<ExportedFile[]>;
  /**
   * Trains what the pruned configuration kept, its loss and metric streamed in Progress.recovery;
   * cancelled, it resolves with the best weights measured so far (report.aborted). A new recovery
   * or prune cancels it (its result then rejects as cancelled).
   */
  recover(request: RecoverRequest, onProgress?: ProgressFn): Job<RecoveryResult>;
  /** Inspects one input; starting a new inspect cancels the previous one (its result rejects as cancelled). */
  inspect(request: InspectRequest, onProgress?: ProgressFn): Job<InspectResult>;
  evalInputs(count: number): Promise<EvalInputs>;
  /** Head and FFN importance for the model map; a new call cancels the one before. */
  mapImportance(calibration: CalibrationSpec | null, onProgress?: ProgressFn): Job<MapImportance>;
  /** The pruned share of each head, FFN and block; a new call cancels the one before. */
  prunedShares(recipe: WorkbenchRecipe, onProgress?: ProgressFn): Job<PrunedShares>;
  /** One block linear's detail under a configuration; a new call cancels the one before. */
  layerDetail(request: LayerDetailRequest, onProgress?: ProgressFn): Job<LayerDetail>;
  /** Every block's sensitivity curve (slow the first time for a method and calibration set); a new call cancels the one before. */
  layerSensitivity(request: SensitivityRequest, onProgress?: ProgressFn): Job<SensitivityResult>;
  /** Hears of a lost GPU device and of the worker's recovery from it. */
  watchDevice(listener: (event: DeviceEvent) => void): Promise<void>;
  /** Destroys the worker's WebGPU device (tests, ?debug=lose-device); false off WebGPU. */
  debugLoseDevice(): Promise<boolean>;
  terminate(): void;
}

let nextJobId = 1;

/** Calls where only the newest matters (a slider's value, the inspected input): starting one cancels the one before. */
function newestOnly<T>(): (begin: () => Job<T>) => Job<T> {
  let last: Job<T> | null = null;
  return (begin) => {
    last?.cancel();
    last = begin();
    return last;
  };
}

export function createEngineClient(
  worker: Worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' }),
): EngineClient {
  const remote = Comlink.wrap<EngineApi>(worker);
  const pruneSlot = newestOnly<WorkbenchReport>();
  const inspectSlot = newestOnly<InspectResult>();
  const importanceSlot = newestOnly<MapImportance>();
  const sharesSlot = newestOnly<PrunedShares>();
  const detailSlot = newestOnly<LayerDetail>();
  const sensitivitySlot = newestOnly<SensitivityResult>();
  const recoverySlot = newestOnly<RecoveryResult>();

  function start<T>(
    call: (onProgress: ProgressFn | undefined, id: number) => Promise<T>,
    onProgress?: ProgressFn,
  ): Job<T> {
    const id = nextJobId++;
    let cancelled = false;
    const result = call(onProgress && Comlink.proxy(onProgress), id).catch((e: unknown) => {
      if (cancelled || isAbortError(e)) throw abortError();
      throw e;
    });
    return {
      id,
      result,
      cancel() {
        cancelled = true;
        void remote.cancel(id);
      },
    };
  }

  return {
    init: (preferred, threads) => remote.init(preferred, threads),
    openDefault: (id, onProgress) => start((p, jobId) => remote.openDefault(id, p, jobId), onProgress),
    openRemote: (source, hub, onProgress) => start((p, jobId) => remote.openRemote(source, hub, p, jobId), onProgress),
    cachedModels: () => remote.cachedModels(),
    deleteCachedModel: (base) => remote.deleteCachedModel(base),
    openFiles(files, onProgress, expectDigest) {
      return start(async (p, jobId) => {
        // Files go over as Files: the worker reads what it needs, by ranges for a model too big whole.
        const given = files.map((f): DroppedFile | PickedFile => (f instanceof Blob ? { name: f.name, blob: f } : f));
        const buffers = given
          .flatMap((f) => ('bytes' in f ? [f.bytes.buffer] : []))
          .filter((b, i, all) => b instanceof ArrayBuffer && all.indexOf(b) === i) as ArrayBuffer[];
        return remote.openFiles(Comlink.transfer(given, buffers), p, jobId, expectDigest);
      }, onProgress);
    },
    useMemoryBudget: (size) => remote.useMemoryBudget(size),
    evaluate: (onProgress) => start((p, jobId) => remote.evaluate(p, jobId) as Promise<Metrics>, onProgress),
    useEvalData(source, onProgress) {
      return start(async (p, jobId) => {
        if (source.kind === 'shipped-text') return remote.useEvalData(source, p, jobId) as Promise<ModelSummary>;
        const files = await Promise.all(
          source.files.map(
            async (f): Promise<DroppedFile> =>
              f instanceof Blob
                ? // A chosen folder's files keep their path in it: the class is the parent folder's name.
                  { name: f.webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) }
                : f,
          ),
        );
        const buffers = files
          .map((f) => f.bytes.buffer)
          .filter((b, i, all) => b instanceof ArrayBuffer && all.indexOf(b) === i) as ArrayBuffer[];
        return remote.useEvalData(
          Comlink.transfer({ kind: 'files', files }, buffers),
          p,
          jobId,
        ) as Promise<ModelSummary>;
      }, onProgress);
    },
    useWindow: (tokens) => remote.useWindow(tokens) as Promise<ModelSummary>,
    prune: (recipe, onProgress) =>
      pruneSlot(() => start((p, jobId) => remote.prune(recipe, p, jobId) as Promise<WorkbenchReport>, onProgress)),
    sweep: (base, amounts, onPoint, onProgress) =>
      start((p, jobId) => remote.sweep(base, amounts, Comlink.proxy(onPoint), p, jobId), onProgress),
    exportFiles: (recipe, onProgress, recovery) =>
      start((p, jobId) => remote.exportFiles(recipe, p, jobId, recovery) as Promise<ExportedFile[]>, onProgress),
    recover: (request, onProgress) =>
      recoverySlot(() => start((p, jobId) => remote.recover(request, p, jobId) as Promise<RecoveryResult>, onProgress)),
    inspect: (request, onProgress) =>
      inspectSlot(() => start((p, jobId) => remote.inspect(request, p, jobId) as Promise<InspectResult>, onProgress)),
    evalInputs: (count) => remote.evalInputs(count) as Promise<EvalInputs>,
    mapImportance: (calibration, onProgress) =>
      importanceSlot(() => start((p, jobId) => remote.mapImportance(calibration, p, jobId), onProgress)),
    prunedShares: (recipe, onProgress) =>
      sharesSlot(() => start((p, jobId) => remote.prunedShares(recipe, p, jobId), onProgress)),
    layerDetail: (request, onProgress) =>
      detailSlot(() => start((p, jobId) => remote.layerDetail(request, p, jobId) as Promise<LayerDetail>, onProgress)),
    layerSensitivity: (request, onProgress) =>
      sensitivitySlot(() => start((p, jobId) => remote.layerSensitivity(request, p, jobId), onProgress)),
    watchDevice: (listener) => remote.watchDevice(Comlink.proxy(listener)),
    debugLoseDevice: () => remote.debugLoseDevice(),
    terminate() {
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}

let shared: EngineClient | null = null;

/** The page's one engine worker, started on first use. */
export function engine(): EngineClient {
  shared ??= createEngineClient();
  return shared;
}
