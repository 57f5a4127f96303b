// A loaded model and what the page asks of it: its structure and costs, and its metric on the
// evaluation set that ships beside it. The worker holds one session; Node scripts use it too.
import * as tf from '@tensorflow/tfjs';
import {
  gatherWeightFiles,
  loadCheckpoint,
  WEIGHTS_FILE,
  type Checkpoint,
  type CheckpointFiles,
} from './model/checkpoint';
import { INDEX_FILE, parseShardIndex, shardFiles } from './io/shard-index';
import type { Tokenizer } from './model/tokenizer';
import {
  architectureOf,
  contextLength,
  ffnSize,
  headDim,
  hiddenSize,
  isCausalLm,
  numHeads,
  numKvHeads,
  numLayers,
  sequenceLength,
  type CausalLmConfig,
  type ModelConfig,
} from './model/config';
import { type Family, familyOf } from './pruning/catalogue';
import { costReport, type CostReport } from './model/cost';
import type { Weights } from './model/types';
import { toTfWeights } from './model/weights';
import { parseDataSet, type DataSet } from './data/datasets';
import {
  evaluateClassifier,
  evaluateLm,
  type EvalOptions,
  lmWindowCount,
  type LmWindowOptions,
  type Metrics,
} from './eval/metrics';

export interface ModelFiles extends CheckpointFiles {
  evalSet?: Uint8Array;
  calibSet?: Uint8Array;
}

export interface ModelSummary {
  architecture: string;
  kind: ModelConfig['kind'];
  /** What the model does, which decides its metric, data and applicable scores. */
  family: Family;
  layers: number;
  heads: number;
  /** Key/value heads: fewer than `heads` under grouped-query attention, each serving a group. */
  kvHeads: number;
  /** Width of one head (Llama's head_dim; hidden / heads elsewhere). */
  headDim: number;
  /** How positions enter: learned embeddings added to the input, or rotary inside attention. */
  positions: 'learned' | 'rotary';
  /** Whether a language model's head is the token embedding table (null for classifiers). */
  tiedHead: boolean | null;
  hidden: number;
  ffn: number;
  /** Tokens per example: context length, or patches + CLS. */
  sequence: number;
  /** Tokens per window the evaluation text is cut into (the sequence unless set shorter); images: the sequence. */
  evalWindow: number;
  /** Vocabulary size (text) or class names (images). */
  vocabSize: number | null;
  labels: string[] | null;
  cost: CostReport;
  evalSet: { kind: 'images'; count: number } | { kind: 'text'; bytes: number } | null;
  /** Whether the model brought training data to calibrate on (calib.safetensors). */
  calibSet: boolean;
  /** Tensors in the files the architecture does not use. */
  ignoredTensors: string[];
  /** Problems the loader let pass (NaN or infinite weights, an index out of step with its shards),
   * each naming its file; absent when there are none. */
  warnings?: string[];
  /** Present when the model is too big to hold whole in this runtime's memory budget: it is read
   * from its files a block at a time for each measurement, prune and export, and the views that
   * need every weight at once are not offered. */
  streamed?: StreamedInfo;
}

/** Why and how a model is read a block at a time. */
export interface StreamedInfo {
  /** The budget it did not fit, in bytes. */
  budget: number;
  /** What holding it whole was estimated to need. */
  whole: number;
  /** What a pass a block at a time is estimated to need (the shipped evaluation windows' share included). */
  blockAtATime: number;
}

/** What a model's summary says beyond its config. */
export type SummaryParts = Pick<
  ModelSummary,
  'evalWindow' | 'calibSet' | 'tiedHead' | 'ignoredTensors' | 'warnings' | 'streamed'
> & {
  evalSet: DataSet | null;
};

/** The summary of a model of config `c`, whether it is held whole or read a block at a time. */
export function summarize(c: ModelConfig, parts: SummaryParts): ModelSummary {
  const e = parts.evalSet;
  return {
    architecture: architectureOf(c),
    kind: c.kind,
    family: familyOf(c.kind),
    layers: numLayers(c),
    heads: numHeads(c),
    hidden: hiddenSize(c),
    ffn: ffnSize(c),
    sequence: sequenceLength(c),
    evalWindow: parts.evalWindow,
    vocabSize: isCausalLm(c) ? c.vocabSize : null,
    kvHeads: numKvHeads(c),
    headDim: headDim(c),
    positions: c.kind === 'llama' ? 'rotary' : 'learned',
    tiedHead: parts.tiedHead,
    labels: c.kind === 'vit' ? c.labels : null,
    cost: costReport(c),
    evalSet: !e
      ? null
      : e.kind === 'images'
        ? { kind: 'images', count: e.count }
        : { kind: 'text', bytes: e.bytes.length },
    calibSet: parts.calibSet,
    ignoredTensors: parts.ignoredTensors,
    warnings: parts.warnings,
    ...(parts.streamed && { streamed: parts.streamed }),
  };
}

export class ModelError extends Error {}

async function fetchBytes(url: string, fetchImpl: typeof fetch, optional: boolean): Promise<Uint8Array | undefined> {
  const res = await fetchImpl(url);
  if (!res.ok) {
    if (optional && res.status === 404) return undefined;
    throw new ModelError(`could not load ${url}: ${httpReason(res.status)}`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

function httpReason(status: number): string {
  if (status === 401 || status === 403)
    return `HTTP ${status} (the model is private or gated, or the address is wrong)`;
  if (status === 404) return 'HTTP 404 (not found)';
  return `HTTP ${status}`;
}

function parseJson(bytes: Uint8Array, name: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ModelError(`${name} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * The files of a model folder that are fetched when present, besides config.json and the weights:
 * what the engine reads and what an export carries over.
 */
export const OPTIONAL_MODEL_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'preprocessor_config.json',
  'generation_config.json',
  'eval.safetensors',
  'calib.safetensors',
] as const;

/**
 * The weights of a model directory on a server: model.safetensors, or model.safetensors.index.json
 * and the shards it names (a shard that is not there is left for the loader to name).
 */
async function fetchWeights(base: string, fetchImpl: typeof fetch, into: Map<string, Uint8Array>): Promise<void> {
  const single = await fetchBytes(`${base}${WEIGHTS_FILE}`, fetchImpl, true);
  if (single) {
    into.set(WEIGHTS_FILE, single);
    return;
  }
  const indexBytes = await fetchBytes(`${base}${INDEX_FILE}`, fetchImpl, true);
  if (!indexBytes)
    throw new ModelError(
      `${base} is not a model folder: it has config.json but neither ${WEIGHTS_FILE} nor ${INDEX_FILE}`,
    );
  into.set(INDEX_FILE, indexBytes);
  const names = shardFiles(parseShardIndex(parseJson(indexBytes, INDEX_FILE)));
  const shards = await Promise.all(names.map((name) => fetchBytes(`${base}${name}`, fetchImpl, true)));
  names.forEach((name, i) => {
    if (shards[i]) into.set(name, shards[i]);
  });
}

/**
 * Every file of a model folder on a server, by name, as it was served: config.json (whose absence
 * means there is no model there), the weights, and those of OPTIONAL_MODEL_FILES it has. config.json
 * comes first, so a wrong address fails before the weights are asked for.
 */
export async function fetchModelFolder(
  baseUrl: string,
  fetchImpl: typeof fetch = fetch,
): Promise<Map<string, Uint8Array>> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const files = new Map<string, Uint8Array>();
  const config = await fetchBytes(`${base}config.json`, fetchImpl, true);
  if (!config) throw new ModelError(`there is no model at ${base}: its config.json was not found (HTTP 404)`);
  files.set('config.json', config);
  parseJson(config, 'config.json');
  const optional = await Promise.all([
    fetchWeights(base, fetchImpl, files),
    ...OPTIONAL_MODEL_FILES.map((name) => fetchBytes(`${base}${name}`, fetchImpl, true)),
  ]);
  OPTIONAL_MODEL_FILES.forEach((name, i) => {
    const bytes = optional[i + 1];
    if (bytes) files.set(name, bytes);
  });
  return files;
}

/** The engine's view of a model folder's files (by name, as fetchModelFolder gives them). */
export function modelFilesOf(folder: ReadonlyMap<string, Uint8Array>): ModelFiles {
  const read = (name: string) => folder.get(name);
  const weights = gatherWeightFiles(read);
  if (!weights) throw new ModelError(`the model has no ${WEIGHTS_FILE} nor ${INDEX_FILE}`);
  const json = (name: string) => {
    const b = read(name);
    return b && parseJson(b, name);
  };
  return {
    config: json('config.json'),
    ...weights,
    tokenizer: json('tokenizer.json'),
    tokenizerConfig: json('tokenizer_config.json'),
    evalSet: read('eval.safetensors'),
    calibSet: read('calib.safetensors'),
  };
}

/** Fetches a model directory laid out as public/models/<id>/ is. */
export async function fetchModelFiles(baseUrl: string, fetchImpl: typeof fetch = fetch): Promise<ModelFiles> {
  return modelFilesOf(await fetchModelFolder(baseUrl, fetchImpl));
}

/** What the model is measured on besides the set itself: how text is cut, how many examples. */
export interface EvalSetOptions extends LmWindowOptions {
  /** Images: the first this many. (Text: `maxWindows`.) */
  maxImages?: number;
  /** The set's name in messages (a file's path); default "the evaluation text" / "the evaluation images". */
  name?: string;
}

export class ModelSession {
  readonly weights: Weights;
  private evalData: DataSet | null;
  private evalWindows: EvalSetOptions = {};
  /**
   * The evaluation text's tokens, encoded once per set: the whole text's, or (`whole` false) its
   * first tokens, as far as the windows asked for reach.
   */
  private evalTokenCache: TextPrefix | null = null;

  private constructor(
    readonly checkpoint: Checkpoint,
    evalSet: DataSet | null,
    readonly calibSet: DataSet | null,
  ) {
    this.weights = toTfWeights(checkpoint.weights);
    this.evalData = evalSet;
  }

  /** The set the model is measured on: the shipped eval.safetensors, or one the user gave. */
  get evalSet(): DataSet | null {
    return this.evalData;
  }

  /**
   * Measures on `set` from now on (null keeps the current set and changes only the options), text
   * cut into windows as `opts` says. Checked first — the set fits the model, the text holds at least
   * one window — so a refused set changes nothing. Returns the examples one evaluation covers.
   */
  useEvalSet(set: DataSet | null, opts: EvalSetOptions = {}): { windows: number } | { images: number } {
    const next = set ?? this.evalData;
    if (!next) throw new ModelError('this model has no evaluation set; give one');
    const c = this.config;
    const name = opts.name ?? (next.kind === 'text' ? 'the evaluation text' : 'the evaluation images');
    checkDataFits(c, next, name);
    let tokens: TextPrefix | null = null;
    let covered: { windows: number } | { images: number };
    if (next.kind === 'text' && isCausalLm(c)) {
      const needed = tokensFor(opts, opts.context ?? sequenceLength(c));
      const cached = next === this.evalData ? this.evalTokenCache : null;
      tokens = cached && (cached.whole || cached.tokens.length >= needed) ? cached : this.encode(next, needed);
      covered = { windows: evalWindowCount(c, tokens.tokens.length, opts, name) };
    } else {
      covered = { images: Math.min(opts.maxImages ?? Infinity, next.kind === 'images' ? next.count : 0) };
    }
    this.evalData = next;
    this.evalWindows = opts;
    this.evalTokenCache = tokens;
    return covered;
  }

  private encode(set: DataSet & { kind: 'text' }, needed: number): TextPrefix {
    return encodeTextPrefix(this.checkpoint.tokenizer!, set, needed);
  }

  /** Tokens per evaluation window of text: the set's options', else the model's sequence. */
  get evalWindow(): number {
    return this.evalWindows.context ?? sequenceLength(this.config);
  }

  /** Validates everything before any tensor is created, so a bad file changes nothing. */
  static open(files: ModelFiles): ModelSession {
    const checkpoint = loadCheckpoint(files);
    const evalSet = files.evalSet ? parseDataSet(files.evalSet, 'eval.safetensors') : null;
    const calibSet = files.calibSet ? parseDataSet(files.calibSet, 'calib.safetensors') : null;
    for (const [set, name] of [
      [evalSet, 'eval.safetensors'],
      [calibSet, 'calib.safetensors'],
    ] as const) {
      if (set) checkDataFits(checkpoint.config, set, name);
    }
    return new ModelSession(checkpoint, evalSet, calibSet);
  }

  get config(): ModelConfig {
    return this.checkpoint.config;
  }

  get tokenizer(): Tokenizer | null {
    return this.checkpoint.tokenizer;
  }

  summary(): ModelSummary {
    return summarize(this.config, {
      evalSet: this.evalSet,
      evalWindow: this.evalWindow,
      calibSet: this.calibSet !== null,
      tiedHead: isCausalLm(this.config) ? !this.checkpoint.weights.has('lm_head.weight') : null,
      ignoredTensors: this.checkpoint.ignored,
      warnings: this.checkpoint.warnings,
    });
  }

  /** The model's metric on its shipped evaluation set. */
  evaluate(opts: EvalOptions = {}): Promise<Metrics> {
    return this.evaluateWith(this.weights, opts);
  }

  /** The metric of other weights for the same architecture (a pruned copy) on the evaluation set. */
  async evaluateWith(weights: Weights, opts: EvalOptions = {}): Promise<Metrics> {
    const set = this.evalSet;
    if (!set) throw new ModelError('this model has no eval.safetensors to measure it on');
    const c = this.config;
    const o = this.evalWindows;
    if (c.kind === 'vit' && set.kind === 'images') {
      const n = Math.min(o.maxImages ?? set.count, set.count);
      const per = set.pixels.length / set.count;
      return evaluateClassifier(c, weights, set.pixels.subarray(0, n * per), set.labels.subarray(0, n), {
        ...opts,
        normalization: set.normalization,
      });
    }
    if (isCausalLm(c) && set.kind === 'text') {
      this.evalTokenCache ??= this.encode(set, tokensFor(o, this.evalWindow));
      const tokenizer = this.checkpoint.tokenizer!;
      return evaluateLm(c, weights, this.evalTokenCache.tokens, set.bytes.length, {
        ...opts,
        context: o.context,
        stride: o.stride,
        maxWindows: o.maxWindows,
        // The UTF-8 bytes of the targets scored: exact for any tokenizer and any part of the text.
        tokenBytes: (id) => tokenizer.tokenToBytes(id).length,
      });
    }
    throw new ModelError(`eval.safetensors holds ${set.kind}, which does not fit a ${c.kind} model`);
  }

  dispose(): void {
    tf.dispose([...this.weights.values()]);
  }
}

/**
 * The evaluation windows a text of `tokens` tokens is cut into under `opts`; refuses a window the
 * model cannot hold and a text too short for one window.
 */
export function evalWindowCount(c: CausalLmConfig, tokens: number, opts: EvalSetOptions, name: string): number {
  const t = opts.context ?? sequenceLength(c);
  if (opts.context !== undefined && !(Number.isInteger(t) && t >= 1 && t <= contextLength(c)))
    throw new ModelError(`a window of ${t} tokens does not fit the model's context of ${contextLength(c)}`);
  const windows = lmWindowCount(tokens, t, opts.stride ?? t, opts.maxWindows);
  if (windows < 1)
    throw new ModelError(`${name} is too short: it encodes to ${tokens} tokens, and one window needs ${t + 1}`);
  return windows;
}

/** Tokens the first `maxWindows` windows of `context` tokens read (every token without a limit). */
export function tokensFor(opts: Pick<EvalSetOptions, 'maxWindows' | 'stride'>, context: number): number {
  return opts.maxWindows === undefined ? Infinity : (opts.maxWindows - 1) * (opts.stride ?? context) + context + 1;
}

/** A text's first tokens; `whole`: every token of the text is there. */
export interface TextPrefix {
  tokens: Int32Array;
  whole: boolean;
}

/**
 * A text set's first tokens, at least `needed` of them where the text has them: encoded a piece at
 * a time and no further (the tokens of the whole text's encoding, cut), so measuring 16 windows of
 * a long text encodes the start of it only.
 */
export function encodeTextPrefix(
  tokenizer: Pick<Tokenizer, 'encodePieces'>,
  set: { bytes: Uint8Array },
  needed: number,
): TextPrefix {
  const text = tokenizer.encodePieces(new TextDecoder('utf-8').decode(set.bytes));
  const pieces = text.byteStarts.length - 1;
  const ids: number[] = [];
  let i = 0;
  while (i < pieces && ids.length < needed) for (const id of text.piece(i++)) ids.push(id);
  return { tokens: Int32Array.from(ids), whole: i === pieces };
}

/** A text set's tokens (its bytes read as UTF-8). */
export function encodeText(tokenizer: Pick<Tokenizer, 'encode'>, set: { bytes: Uint8Array }): Int32Array {
  return Int32Array.from(tokenizer.encode(new TextDecoder('utf-8').decode(set.bytes)));
}

/** Refuses a data set of the wrong kind or shape for the model, naming it `name`. */
export function checkDataFits(c: ModelConfig, set: DataSet, name: string): void {
  if (c.kind === 'vit') {
    if (set.kind !== 'images') throw new ModelError(`${name} holds text, but the model classifies images`);
    const [ch, h, w] = set.shape;
    if (ch !== c.numChannels || h !== c.imageSize || w !== c.imageSize) {
      throw new ModelError(
        `${name} holds ${ch}×${h}×${w} images, but the model expects ${c.numChannels}×${c.imageSize}×${c.imageSize}`,
      );
    }
    const bad = set.labels.findIndex((l) => l >= c.labels.length);
    if (bad >= 0)
      throw new ModelError(
        `${name}: label ${set.labels[bad]} of example ${bad} is not one of the model's ${c.labels.length} classes`,
      );
  } else if (set.kind !== 'text') {
    throw new ModelError(`${name} holds images, but the model reads text`);
  }
}
