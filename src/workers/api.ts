// The contract between the page and the engine worker. The UI sees the engine only through this
// interface (wrapped by ./client.ts); src/workers/engine.worker.ts implements it.
import type { Metrics, PartialMetrics } from '../engine/eval/metrics';
import type { ModelSummary } from '../engine/session';
import type {
  PruneRecipe,
  PruneReport,
  SearchProgress,
  StructuredPruneRecipe,
  StructuredReport,
} from '../engine/eval/pruner';
import type { MapImportance, PrunedShares } from '../engine/eval/map-importance';
import type { CalibrationSpec } from '../engine/pruning/calibration';
import type { AttentionMaps, ClassPredictions, NextTokenPredictions, Saliency } from '../engine/eval/inspect';
import type { LayerDetailData } from '../engine/eval/layer-detail';
import type { LinearRole } from '../engine/model/schema';
import type { SensitivityCurve } from '../engine/pruning/allocation';
import type { MethodId } from '../engine/pruning/catalogue';
import type { RemoteRef } from '../engine/hub';
import type { CachedModel } from './cache';
import type { RecoveryReport, RecoveryRequest } from '../engine/eval/recovery';
import type { CurvePoint, RecoveryProgress } from '../engine/recovery/recover';
import type { RecoveryDataId, RecoveryModeId } from '../engine/recovery/modes';

export type { PruneRecipe, PruneReport, SearchProgress, StructuredPruneRecipe, StructuredReport };
export type { CalibrationSpec, MapImportance, PrunedShares };

/** What to prune: an unstructured / N:M recipe, or a structured one (heads, neurons, blocks, sublayers, tokens). */
export type WorkbenchRecipe =
  | { kind: 'unstructured'; recipe: PruneRecipe }
  | { kind: 'structured'; recipe: StructuredPruneRecipe };
export type WorkbenchReport = PruneReport | StructuredReport;

export type { LinearChoice, LinearPath } from '../engine/gpu/sparse-linears';
export type {
  AttentionMaps,
  ClassPredictions,
  HeadAttention,
  LayerAttention,
  NextTokenPredictions,
  Saliency,
  SaliencyScores,
} from '../engine/eval/inspect';

/** What to inspect: an eval-set image, a drawn image (C×H×W bytes, 0…255), or text for a language model. */
export type InspectSource =
  | { kind: 'eval-image'; index: number }
  | { kind: 'pixels'; pixels: Uint8Array }
  | { kind: 'text'; text: string };

export interface InspectRequest {
  source: InspectSource;
  /** The configuration to compare with the dense model; null: the dense model alone. */
  recipe: WorkbenchRecipe | null;
}

/** One token of a text input. */
export interface InputToken {
  id: number;
  /** Its text (UTF-8; a token holding part of a character shows U+FFFD). */
  text: string;
  /** A visible form: ␣ for space, ↵ for newline, \xNN for other control bytes. */
  display: string;
}

/** The input as the model read it. */
export type InspectedInput =
  | {
      kind: 'image';
      pixels: Uint8Array;
      size: number;
      channels: number /** The eval label's name; null for a drawn image. */;
      label: string | null;
    }
  | {
      kind: 'text' /** The tokens the model read: the text's end when it is longer than the context. */;
      tokens: InputToken[];
      croppedTokens: number;
    };

/** One model's views of the input. */
export interface InspectView {
  attention: AttentionMaps;
  saliency: Saliency;
  predictions: ClassPredictions | NextTokenPredictions;
}

export interface InspectResult {
  input: InspectedInput;
  dense: InspectView;
  /** The same views of the pruned model; null when no recipe was given. */
  pruned: InspectView | null;
}

/** What the input picker offers: the first eval images, or a prompt from the eval text. */
export type EvalInputs =
  | {
      kind: 'images';
      images: { index: number; pixels: Uint8Array; label: string }[];
      size: number;
      channels: number /** Images in the whole eval set. */;
      count: number;
    }
  | { kind: 'text'; prompt: string /** The model's context, in tokens. */; context: number };

/** One file of an export: its bytes, or (a model read a block at a time) a File in the browser's storage. */
export type ExportedFile = { name: string; bytes: Uint8Array } | { name: string; blob: Blob };

export type { Metrics, ModelSummary };
export type { ClassifierMetrics, LmMetrics } from '../engine/eval/metrics';
export type { BlockCost, CostReport, LinearCost } from '../engine/model/cost';

export type BackendName = 'webgpu' | 'wasm' | 'cpu';

/** The TensorFlow.js backend the worker runs on. */
export interface BackendInfo {
  name: BackendName;
  /** The WebGPU adapter, e.g. "google swiftshader (fallback adapter)"; null on the CPU. */
  adapter: string | null;
  /** WebGPU on a software adapter (SwiftShader, say): runs, but WASM is faster on such a machine. */
  softwareAdapter?: boolean;
  /** Why WebGPU was not used, when it was not. */
  fallbackReason: string | null;
  /** On WASM: the threads XNNPACK computes on (1: the single-threaded build). */
  threads?: number;
  /** On WASM: why fewer threads than the machine's cores (at most 8), in words fit to show; else null. */
  threadsReason?: string | null;
}

/** What a long call reports while it runs. */
export interface Progress {
  /** What is happening, in words: "Downloading model.safetensors", "Measuring 1000 images". */
  label: string;
  /** 0..1, or null while the share done is unknown. */
  fraction: number | null;
  /** While a prune measures: the metric over the eval examples done so far (see PartialMetrics). */
  estimate?: PartialMetrics;
  /** While a searched allocation (EvoPress) runs: its best split after the latest generation. */
  search?: SearchProgress;
  /** While a recovery runs: the training loss or the held-out metric just reported. */
  recovery?: RecoveryProgress;
}

export type { PartialMetrics };

/** What happened to the GPU device the worker computes on (see ./device-loss.ts). */
export type DeviceEvent =
  | { kind: 'lost'; message: string }
  /** A new device is running and the model is on it again; `message` says what was lost. */
  | { kind: 'recovered'; message: string; backend: BackendInfo }
  | { kind: 'failed'; message: string };

export type ProgressFn = (progress: Progress) => void;

/** A file the user chose or dropped, as bytes. */
export interface DroppedFile {
  name: string;
  bytes: Uint8Array;
}

/** A file the user chose or dropped, as the File: the worker reads what it needs, by ranges. */
export interface PickedFile {
  name: string;
  blob: Blob;
}

export interface OpenResult {
  summary: ModelSummary;
  /** The files the model was built from, by the names the engine knows them by. */
  files: string[];
  /** Files that were given but not used (README.md, generation_config.json, ...). */
  ignoredFiles: string[];
  /** SHA-256 (hex) of the weights files' safetensors headers: what a share link checks dropped files against. */
  digest?: string;
  /** Opened from the browser's cache of downloaded models, without the network. */
  fromCache?: boolean;
}

export type { CachedModel } from './cache';
export type { RemoteRef } from '../engine/hub';

/**
 * What a model that brought no evaluation data can be measured on: files the user chose (one UTF-8
 * text file for a language model; PNG or JPEG images in folders named by their class, their paths
 * as "<label>/<file>", for an image model), or the public-domain text that ships with the default
 * language model.
 */
export type EvalDataSource = { kind: 'files'; files: DroppedFile[] } | { kind: 'shipped-text' };

/** The shipped public-domain text, as the page offers it. */
export const SHIPPED_TEXT = {
  model: 'gpt-bytes',
  description: '16 KB of the King James Bible (public domain), held out from gpt-bytes’ training',
};

/** The longest window of text a model is measured on (the page may ask for shorter ones). */
export { DEFAULT_WINDOW as LONGEST_WINDOW } from '../engine/model/config';

/**
 * Every long call takes a progress callback (wrap it with comlink's `proxy`) and a job id chosen by
 * the caller; `cancel(jobId)` aborts it, and the call then rejects with an error named "AbortError".
 * Any other failure rejects with an Error whose message is fit to show as it is.
 */
export interface EngineApi {
  /**
   * Chooses the backend: 'webgpu' (the default) when an adapter is available, else 'cpu'. The
   * first call decides; later calls return the same answer. The other calls run it first.
   * `threads`: the WASM backend's thread count (the page's `?threads=N`); unset, the machine's cores.
   */
  init(preferred?: BackendName, threads?: number | null): Promise<BackendInfo>;
  /** Opens public/models/<id>/. */
  openDefault(id: string, onProgress?: ProgressFn, jobId?: number): Promise<OpenResult>;
  /**
   * Opens config.json + model.safetensors [+ tokenizer.json, eval.safetensors, calib.safetensors].
   * With `expectDigest` (a share link's), files whose digest (OpenResult.digest) differs are refused
   * before anything changes.
   */
  openFiles(
    files: (DroppedFile | PickedFile)[],
    onProgress?: ProgressFn,
    jobId?: number,
    expectDigest?: string,
  ): Promise<OpenResult>;
  /**
   * Opens a model from a hub id (resolved against `hub`) or a folder URL: from the browser's cache
   * when it holds it, else downloaded (progress in bytes; cancelling stops the download) and then
   * cached.
   */
  openRemote(source: RemoteRef, hub: string, onProgress?: ProgressFn, jobId?: number): Promise<OpenResult>;
  /** The models kept in the browser's cache, newest first. */
  cachedModels(): Promise<CachedModel[]>;
  /** Removes a cached model (by CachedModel.base). */
  deleteCachedModel(base: string): Promise<void>;
  /** The loaded model's metric on its eval set. */
  evaluate(onProgress?: ProgressFn, jobId?: number): Promise<Metrics>;
  /**
   * Measures the loaded model on the user's data (or the shipped text) from now on; answers the
   * model's summary with its new eval set. A refused set changes nothing.
   */
  useEvalData(source: EvalDataSource, onProgress?: ProgressFn, jobId?: number): Promise<ModelSummary>;
  /**
   * Cuts the evaluation text into windows of `tokens` (null: the model's sequence) from now on, for
   * this model and any text given to it later; answers the summary. Jobs on the model stop first. A
   * window the model or the text cannot hold is refused and changes nothing.
   */
  useWindow(tokens: number | null): Promise<ModelSummary>;
  /**
   * Prunes a copy of the loaded model by the recipe and measures it. A new prune cancels the one
   * still running (its call rejects with an AbortError): stale values are dropped, never queued.
   */
  prune(recipe: WorkbenchRecipe, onProgress?: ProgressFn, jobId?: number): Promise<WorkbenchReport>;
  /** Measures the recipe at each value of `amounts` (sparsity, or the structured amount), streaming each point. */
  sweep(
    base: WorkbenchRecipe,
    amounts: number[],
    onPoint: (report: WorkbenchReport, index: number) => void,
    onProgress?: ProgressFn,
    jobId?: number,
  ): Promise<number>;
  /**
   * The files of the pruned checkpoint: config.json, model.safetensors, masks.safetensors, recipe.json.
   * Given `recovery`, the weights of that recovery of the recipe (it must be the last one run, finished
   * or cancelled) with its report in recipe.json, and after LoRA the PEFT adapter (adapter_config.json,
   * adapter_model.safetensors).
   */
  exportFiles(
    recipe: WorkbenchRecipe,
    onProgress?: ProgressFn,
    jobId?: number,
    recovery?: RecoverRequest | null,
  ): Promise<ExportedFile[]>;
  /**
   * Trains what the recipe's pruned model kept (the last measured configuration's masks when it is
   * that recipe, else pruned and measured first), streaming the loss and the held-out metric as
   * Progress.recovery. Cancel ends it with the best weights measured so far (`aborted`); a new prune
   * or recovery cancels it and its answer is dropped.
   */
  recover(request: RecoverRequest, onProgress?: ProgressFn, jobId?: number): Promise<RecoveryResult>;
  /**
   * Attention maps, saliency and predictions of one input on the dense model and, given a recipe, the
   * pruned one (the masks of the last measured configuration when it is that recipe; else pruned
   * without measuring). A new inspect cancels the one still running.
   */
  inspect(request: InspectRequest, onProgress?: ProgressFn, jobId?: number): Promise<InspectResult>;
  /** The inputs the picker offers: the first `count` eval images, or a default prompt. */
  evalInputs(count: number): Promise<EvalInputs>;
  /**
   * The model map's importance: every attention head's output norm and every FFN's summed neuron
   * scores on the calibration data (null: the model's default). Computed once per model and
   * calibration set; a later call answers at once.
   */
  mapImportance(calibration: CalibrationSpec | null, onProgress?: ProgressFn, jobId?: number): Promise<MapImportance>;
  /**
   * The share of each head, FFN and block the recipe prunes: read from the last measured
   * configuration's masks when it is that recipe, else pruned now (without measuring).
   */
  prunedShares(recipe: WorkbenchRecipe, onProgress?: ProgressFn, jobId?: number): Promise<PrunedShares>;
  /**
   * Calls `listener` (wrap it with comlink's `proxy`) when the WebGPU device is lost and again once
   * the worker has recovered (a new device, the model uploaded to it again) or failed to.
   */
  watchDevice(listener: (event: DeviceEvent) => void): void;
  /** For tests (?debug=lose-device): destroys the WebGPU device, a real loss; false off WebGPU. */
  debugLoseDevice(): boolean;
  /**
   * One block linear's detail: histograms of its weights and of the method's scores, split into kept
   * and removed under the recipe's mask (held masks when they match, else pruned without measuring),
   * the threshold that mask implies, and the mask as an image. A new request cancels the one running.
   */
  layerDetail(request: LayerDetailRequest, onProgress?: ProgressFn, jobId?: number): Promise<LayerDetail>;
  /** Every block's sensitivity curve for a method and calibration set; computed once, then answered at once. */
  layerSensitivity(request: SensitivityRequest, onProgress?: ProgressFn, jobId?: number): Promise<SensitivityResult>;
  /**
   * The memory a model may take whole before it is read a block at a time, as a size ("800MB",
   * "2GiB"; null: the tab's default, 4.5 GB); applies to models opened from files later. A size
   * that is none is refused and changes nothing. Answers the budget in bytes.
   */
  useMemoryBudget(size: string | null): Promise<number>;
  /** Aborts a running job; unknown or finished ids are ignored. */
  cancel(jobId: number): void;
  /** The loaded model's summary, or null when none is loaded. */
  summary(): ModelSummary | null;
}

// ---- Layer detail ----

export type { Histogram, LayerThreshold, MaskImage } from '../engine/eval/layer-detail';
export type { SensitivityCurve } from '../engine/pruning/allocation';

export interface LayerDetailRequest {
  /** Block index, from 0. */
  layer: number;
  /** Which linear of the block: a role of the block's layers in ModelSummary.cost.linears ('q', 'qkv', 'ffn_in', ...). */
  role: LinearRole;
  /** The method whose scores the histogram counts (SparseGPT shows Wanda's). */
  method: MethodId;
  /** Calibration data for the scores that need it; null: the model's default. */
  calibration: CalibrationSpec | null;
  /** The configuration whose mask is shown; null: the dense model (every weight kept). */
  recipe: WorkbenchRecipe | null;
}

export interface LayerDetail extends LayerDetailData {
  layer: number;
  role: LinearRole;
  weight: string;
  inFeatures: number;
  outFeatures: number;
  /** What the score histogram counts, in words: "|w|", "|w|·‖x‖ (Wanda)". */
  scoreName: string;
  /** What to know to read the mask and threshold right, in words. */
  notes: string[];
  /** Share of the block's prunable weights the mask removes. */
  blockSparsity: number;
  /** The grid the kept weights are stored on, when the configuration quantizes them; else null. */
  quantization: QuantizationGrid | null;
}

/**
 * A quantized linear's grid as the weight histogram draws it: the points of one output row and
 * group (the one with the largest scale, so its points span the widest range), and how the kept
 * weights of the whole linear spread over the codes.
 */
export interface QuantizationGrid {
  bits: number;
  symmetric: boolean;
  /** Input columns per group; 0: one group per output row (per channel). */
  groupSize: number;
  /** Groups per output row. */
  groups: number;
  /** The row and group drawn: the largest scale of the linear. */
  row: number;
  group: number;
  scale: number;
  /** Its zero point, a code. */
  zero: number;
  /** scale · (code − zero) for each code 0 … 2^bits − 1, ascending. */
  points: number[];
  /** Share of the linear's kept weights at each code (all rows and groups), by code; sums to 1. */
  shares: number[];
}

export interface SensitivityRequest {
  method: MethodId;
  calibration: CalibrationSpec | null;
}

export interface SensitivityResult {
  /** The method whose scores pruned each block (Wanda's for SparseGPT). */
  method: MethodId;
  /** The calibration data the loss was measured on, in words. */
  calibration: string;
  curves: SensitivityCurve[];
}

// ---- Recovery after pruning ----

export type { CurvePoint, RecoveryModeId, RecoveryProgress, RecoveryReport };

export interface RecoverRequest {
  /** The pruned configuration the run starts from. */
  recipe: WorkbenchRecipe;
  /** The engine's request, the user's data named rather than sent (the worker holds it). */
  recovery: Omit<RecoveryRequest, 'data'> & { data: RecoveryDataId };
}

export interface RecoveryResult {
  report: RecoveryReport;
  /** LoRA: the linears adapted; empty for the other modes. */
  adapted: string[];
}
