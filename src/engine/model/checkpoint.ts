// A Hugging Face checkpoint (config.json + model.safetensors, or model.safetensors.index.json and its
// shards [+ tokenizer.json]) in and out. Loading checks the weights against the config tensor by
// tensor, so a mismatch is reported by file and name before anything runs; it remembers how the
// weights were stored (dtype, names, shards) so that writing gives back what `from_pretrained` loads,
// laid out as the source was.
import { isCausalLm, numLayers, parseConfig, type ModelConfig } from './config';
import { GPT2_PREFIX, paramSpecs } from './schema';
import { loadTokenizer, TokenizerError, type Tokenizer } from './tokenizer';
import {
  inFile,
  readSafetensorsHeader,
  readTensor,
  SafetensorsError,
  tensorByteSize,
  writeSafetensors,
  type DType,
  type SafetensorsHeader,
  type TensorEntry,
  type TensorInfo,
} from '../io/safetensors';
import {
  INDEX_FILE,
  parseShardIndex,
  shardFiles,
  shardName,
  writeShardIndex,
  type ShardIndex,
} from '../io/shard-index';
import { duplicateKey } from '../io/json-keys';

export const WEIGHTS_FILE = 'model.safetensors';

/** A tensor on the host: f32 values in row-major order. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** The dtypes weights may be stored in; all are computed in f32. */
export type FloatDType = 'F64' | 'F32' | 'F16' | 'BF16';

/** config.json's name for each (torch_dtype). */
export const TORCH_DTYPE: Record<FloatDType, string> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
};

const isFloatDType = (d: DType): d is FloatDType => Object.hasOwn(TORCH_DTYPE, d);

/** How the source stored its weights, by canonical name, so that an export writes them back alike. */
export interface WeightStorage {
  /** Each weight's dtype in the file. */
  dtypes: Map<string, FloatDType>;
  /** Each weight's name in the file (GPT2Model uploads drop "transformer."). */
  fileNames: Map<string, string>;
  /** Each weight's shard file; null when the weights are one model.safetensors. */
  shards: Map<string, string> | null;
  /** Every shard file of the source in order, those no weight here is in too (they held only
   * ignored tensors, or the blocks an export removed): a writer keeps the source's names only
   * while it fills every one of them. Absent: the files `shards` names. */
  shardFiles?: string[];
}

export interface Checkpoint {
  config: ModelConfig;
  weights: Map<string, HostTensor>;
  tokenizer: Tokenizer | null;
  /** Tensors in the files that the architecture does not use (e.g. GPT-2's causal-mask buffers). */
  ignored: string[];
  /** What is wrong with the files but does not stop the model from loading, each naming its file. */
  warnings: string[];
  storage: WeightStorage;
}

export interface CheckpointFiles {
  config: unknown; // parsed config.json
  /** The weights' safetensors files by name: model.safetensors alone, or the shards `index` names
   * (bytes alone: model.safetensors). */
  weights: Map<string, Uint8Array> | Uint8Array;
  /** model.safetensors.index.json, parsed: given exactly when the weights are sharded. */
  index?: ShardIndex;
  tokenizer?: unknown; // parsed tokenizer.json
  tokenizerConfig?: unknown; // parsed tokenizer_config.json, when the model has one
}

/** The files of a checkpoint do not fit together (a missing shard or tensor, a shape the config
 * does not imply); the message names the file. */
export class CheckpointError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CheckpointError';
  }
}

/**
 * The weight files of a checkpoint directory, given a way to read a file of it by name (undefined
 * when absent): model.safetensors when there is one (as transformers prefers it), else the index and
 * the shards it names that are there — a missing shard is the loader's to report, by name.
 */
export function gatherWeightFiles(
  read: (name: string) => Uint8Array | undefined,
): Pick<CheckpointFiles, 'weights' | 'index'> | null {
  const single = read(WEIGHTS_FILE);
  if (single) return { weights: new Map([[WEIGHTS_FILE, single]]) };
  const indexBytes = read(INDEX_FILE);
  if (!indexBytes) return null;
  const index = parseShardIndex(parseIndexJson(indexBytes));
  const weights = new Map<string, Uint8Array>();
  for (const name of shardFiles(index)) {
    const bytes = read(name);
    if (bytes) weights.set(name, bytes);
  }
  return { weights, index };
}

/** model.safetensors.index.json's bytes as JSON, refusing a key given twice. */
export function parseIndexJson(bytes: Uint8Array): unknown {
  let text: string;
  let json: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`${INDEX_FILE}: not valid JSON (${(e as Error).message})`);
  }
  // A tensor listed twice may name two shards; JSON.parse would silently keep the last.
  const twice = duplicateKey(text);
  if (twice) {
    const where = twice.path.length > 0 ? twice.path.map((k) => JSON.stringify(k)).join(' → ') : 'the index';
    throw new SafetensorsError(`${INDEX_FILE}: ${where} names ${JSON.stringify(twice.key)} more than once`);
  }
  return json;
}

// Buffers some checkpoints store next to the weights; they are not parameters: GPT-2's causal
// masks, and the rotary inverse frequencies of older Llama-family uploads.
const BUFFERS: Partial<Record<ModelConfig['kind'], RegExp>> = {
  gpt2: /\.attn\.(bias|masked_bias)$/,
  llama: /\.rotary_emb\.inv_freq$/,
};

function canonicalName(config: ModelConfig, name: string): string {
  // GPT2Model checkpoints (the original `gpt2` upload) name tensors without "transformer.".
  if (config.kind === 'gpt2' && !name.startsWith(GPT2_PREFIX) && name !== 'lm_head.weight') return GPT2_PREFIX + name;
  return name;
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

export function weightFileMap(weights: CheckpointFiles['weights']): Map<string, Uint8Array> {
  return weights instanceof Uint8Array ? new Map([[WEIGHTS_FILE, weights]]) : weights;
}

/** A tensor as a file's header lists it. */
export interface Located {
  file: string;
  header: SafetensorsHeader;
  info: TensorInfo;
}

function headerOf(file: string, bytes: Uint8Array): SafetensorsHeader {
  return inFile(file, () => readSafetensorsHeader(bytes));
}

/**
 * The weight files whose headers a load reads, in order, given the names of those there: the one
 * safetensors file, or every shard the index names — a missing one is refused here, by name, before
 * any header is read.
 */
export function weightFilesToRead(present: string[], index: ShardIndex | undefined): string[] {
  if (!index) {
    if (present.length !== 1)
      throw new CheckpointError(
        `${present.join(', ')}: one safetensors file, or ${INDEX_FILE} with its shards, is needed`,
      );
    return present;
  }
  const shards = shardFiles(index);
  const missing = shards.filter((s) => !present.includes(s));
  if (missing.length > 0)
    throw new CheckpointError(
      `${INDEX_FILE} names ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} missing`,
    );
  return shards;
}

/**
 * Every tensor of the weight files by its name in the files, from the headers of the files
 * weightFilesToRead named. A sharded checkpoint must agree with its index: every tensor it lists is
 * in the shard it says, and no tensor is in two shards. A tensor a shard holds that the index does
 * not list is left out (in `ignored`, with a warning): the index is what says what the checkpoint
 * is. A total_size that does not add up is a warning too — it describes the shards, it is not read.
 */
function locateTensors(
  headers: Map<string, SafetensorsHeader>,
  index: ShardIndex | undefined,
  ignored: string[],
  warnings: string[],
): Map<string, Located> {
  const located = new Map<string, Located>();
  if (!index) {
    for (const [file, header] of headers)
      for (const info of header.tensors) located.set(info.name, { file, header, info });
    return located;
  }

  warnings.push(...index.warnings);
  const holder = new Map<string, string>(); // tensor → the shard whose header lists it
  let dataBytes = 0;
  for (const [file, header] of headers) {
    for (const info of header.tensors) {
      const other = holder.get(info.name);
      if (other) throw new CheckpointError(`${file}: tensor "${info.name}" is also in ${other}; which one is meant?`);
      holder.set(info.name, file);
      const listed = index.weightMap.get(info.name);
      if (listed === file) {
        located.set(info.name, { file, header, info });
        dataBytes += info.end - info.begin;
      } else if (listed === undefined) {
        ignored.push(info.name);
        warnings.push(`${file}: tensor "${info.name}" is not listed in ${INDEX_FILE}; it is ignored`);
      }
    }
  }
  for (const [name, file] of index.weightMap) {
    const actual = holder.get(name);
    if (actual !== file)
      throw new CheckpointError(
        `${file}: ${INDEX_FILE} puts tensor "${name}" here, but the file does not hold it${actual ? ` (${actual} does)` : ''}`,
      );
  }
  if (index.totalSize !== null && index.totalSize !== dataBytes)
    warnings.push(
      `${INDEX_FILE}: metadata.total_size is ${index.totalSize} bytes but the shards hold ${dataBytes} bytes of tensor data`,
    );
  return located;
}

/** A warning for NaN or infinite values in a weight, or null when all are finite. */
export function nonFinite(file: string, name: string, data: Float32Array): string | null {
  let nan = 0;
  let pos = 0;
  let neg = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v === 0) continue; // finite: the common case, one comparison
    if (Number.isNaN(v)) nan++;
    else if (v > 0) pos++;
    else neg++;
  }
  if (nan + pos + neg === 0) return null;
  const counts = [nan && `${nan} NaN`, pos && `${pos} +Inf`, neg && `${neg} -Inf`].filter(Boolean).join(', ');
  return `${file}: tensor "${name}" holds ${counts} among its ${data.length} values; what is computed through it may be NaN`;
}

/** Where each weight of a checkpoint is, all checked against the config, before any is decoded. */
export interface WeightPlan {
  /** Each weight by canonical name, in the order paramSpecs lists them. */
  weights: Map<string, Located>;
  ignored: string[];
  warnings: string[];
  storage: WeightStorage;
}

/**
 * Matches the tensors the headers list to the weights the config implies: buffers and tensors the
 * architecture does not use are ignored, GPT2Model's prefix-less names are mapped to canonical ones,
 * and every weight must be there, in the shape the config implies and a floating dtype. `headers`
 * are those of the files weightFilesToRead named, in its order. Whole-file and streamed loads share
 * it, so both accept and refuse the same files with the same messages.
 */
export function planWeights(
  config: ModelConfig,
  headers: Map<string, SafetensorsHeader>,
  index: ShardIndex | undefined,
): WeightPlan {
  const ignored: string[] = [];
  const warnings: string[] = [];
  const where = index ? INDEX_FILE : [...headers.keys()].join(', ');
  const found = new Map<string, Located>(); // by canonical name
  for (const [name, loc] of locateTensors(headers, index, ignored, warnings)) {
    if (BUFFERS[config.kind]?.test(name)) {
      ignored.push(name);
      continue;
    }
    const canonical = canonicalName(config, name);
    const twin = found.get(canonical);
    if (twin)
      throw new CheckpointError(
        `${loc.file}: tensors "${twin.info.name}" and "${name}" are both the model's "${canonical}"`,
      );
    found.set(canonical, loc);
  }

  // Every block has tensors of its own, so a config claiming more blocks than the files hold tensors
  // cannot match them: refused before the list of expected tensors is built, which for an absurd
  // num_hidden_layers would take minutes and gigabytes.
  const layers = numLayers(config);
  if (layers > found.size)
    throw new CheckpointError(
      `${where}: config.json has ${layers} blocks but the weights hold only ${found.size} tensors`,
    );

  const weights = new Map<string, Located>();
  const storage: WeightStorage = {
    dtypes: new Map(),
    fileNames: new Map(),
    shards: index ? new Map() : null,
    shardFiles: index ? shardFiles(index) : undefined,
  };
  const specs = paramSpecs(config);
  if (config.kind === 'gpt2' && found.has('lm_head.weight')) {
    specs.push({ name: 'lm_head.weight', shape: [config.vocabSize, config.nEmbd], init: 'normal' });
  }
  for (const spec of specs) {
    const loc = found.get(spec.name);
    if (!loc)
      throw new CheckpointError(
        `${where}: tensor "${spec.name}" is missing (the config expects shape [${spec.shape}])`,
      );
    const { file, info } = loc;
    if (!sameShape(info.shape, spec.shape)) {
      throw new CheckpointError(
        `${file}: tensor "${info.name}" has shape [${info.shape}] but config.json implies [${spec.shape}]`,
      );
    }
    if (!isFloatDType(info.dtype)) {
      throw new CheckpointError(
        `${file}: tensor "${info.name}" has dtype ${info.dtype}; weights must be floating point (F32, F16, BF16 or F64)`,
      );
    }
    weights.set(spec.name, loc);
    storage.dtypes.set(spec.name, info.dtype);
    storage.fileNames.set(spec.name, info.name);
    storage.shards?.set(spec.name, file);
    found.delete(spec.name);
  }
  for (const loc of found.values()) ignored.push(loc.info.name);
  return { weights, ignored, warnings, storage };
}

/** A text model's tokenizer, checked against the config; null for an image model. */
export function checkpointTokenizer(
  config: ModelConfig,
  files: Pick<CheckpointFiles, 'tokenizer' | 'tokenizerConfig'>,
): Tokenizer | null {
  if (!isCausalLm(config)) return null;
  if (files.tokenizer === undefined) throw new CheckpointError('tokenizer.json is missing; a text model needs it');
  let tokenizer: Tokenizer;
  try {
    tokenizer = loadTokenizer(files.tokenizer, files.tokenizerConfig);
  } catch (e) {
    // Name the file when the message does not already.
    if (e instanceof TokenizerError && !/^tokenizer(_config)?\.json\b/.test(e.message))
      throw new TokenizerError(`tokenizer.json: ${e.message}`);
    throw e;
  }
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new CheckpointError(
      `tokenizer.json has ${tokenizer.vocabSize} tokens but config.json's vocab_size is ${config.vocabSize}`,
    );
  }
  return tokenizer;
}

export function loadCheckpoint(given: CheckpointFiles): Checkpoint {
  const files = weightFileMap(given.weights);
  const config = parseConfig(given.config);
  const headers = new Map<string, SafetensorsHeader>();
  for (const file of weightFilesToRead([...files.keys()], given.index))
    headers.set(file, headerOf(file, files.get(file)!));
  const { weights: plan, ignored, warnings, storage } = planWeights(config, headers, given.index);

  const weights = new Map<string, HostTensor>();
  for (const [name, { file, header, info }] of plan) {
    const data = inFile(file, () => readTensor(files.get(file)!, header, info)).data as Float32Array;
    const warning = nonFinite(file, info.name, data);
    if (warning) warnings.push(warning);
    weights.set(name, { shape: info.shape, data });
  }
  const tokenizer = checkpointTokenizer(config, given);
  return { config, weights, tokenizer, ignored, warnings, storage };
}

/**
 * The storage of tensors renamed from source tensors (an export renumbers blocks): each keeps its
 * source's dtype and shard, and leaves out of its name the prefix its source's name left out.
 */
export function renamedStorage(storage: WeightStorage, sourceOf: Map<string, string>): WeightStorage {
  const out: WeightStorage = {
    dtypes: new Map(),
    fileNames: new Map(),
    shards: storage.shards && new Map(),
    shardFiles: storage.shards ? sourceShardFiles(storage) : undefined,
  };
  for (const [name, source] of sourceOf) {
    const dtype = storage.dtypes.get(source);
    if (dtype) out.dtypes.set(name, dtype);
    const shard = storage.shards?.get(source);
    if (shard) out.shards!.set(name, shard);
    const inFileName = storage.fileNames.get(source) ?? source;
    const dropped = source.endsWith(inFileName) ? source.slice(0, source.length - inFileName.length) : '';
    out.fileNames.set(name, dropped && name.startsWith(dropped) ? name.slice(dropped.length) : name);
  }
  return out;
}

/** The shard files of a sharded source, in order (any `shards` names that `shardFiles` does not, after). */
function sourceShardFiles(storage: WeightStorage): string[] {
  const listed = storage.shardFiles ?? [];
  const more = [...new Set(storage.shards!.values())].filter((s) => !listed.includes(s)).sort();
  return [...listed, ...more];
}

/** The dtype most of the weights are stored in (by values): config.json's torch_dtype. */
export function mainDType(weights: Map<string, { shape: number[] }>, storage?: WeightStorage): FloatDType {
  const count = new Map<FloatDType, number>();
  for (const [name, t] of weights) {
    const dtype = storage?.dtypes.get(name) ?? 'F32';
    count.set(dtype, (count.get(dtype) ?? 0) + t.shape.reduce((a, b) => a * b, 1));
  }
  return [...count].reduce((a, b) => (b[1] > a[1] ? b : a), ['F32', 0] as [FloatDType, number])[0];
}

/**
 * The weight files for `weights` as `storage` says they were stored (each tensor's dtype, name in the
 * file and shard; F32 under canonical names in one file without it), named and laid out as
 * `transformers` saves them: model.safetensors, or model.safetensors.index.json and its shards.
 * Shards keep the source's file names while every one still holds tensors; otherwise the ones left
 * are renumbered model-0000i-of-0000n.safetensors in their order.
 */
/** Where an export's weights go: each file's tensors (dtype and shape, by name in the file), each
 * weight's file and name there, and the shard index when sharded. */
export interface WeightFileLayout {
  /** File → tensors by name in the file, in writing order: model.safetensors, or the shards. */
  files: Map<string, Map<string, Pick<TensorEntry, 'dtype' | 'shape'>>>;
  /** Canonical name → its file and its name in that file. */
  placeOf: Map<string, { file: string; name: string }>;
  /** model.safetensors.index.json's bytes when sharded. */
  index: Uint8Array | null;
}

/**
 * The files weights of these shapes are written to: as the source stored them (names, dtypes,
 * shards) when `storage` says, else F32 under canonical names in one model.safetensors. A source
 * shard left empty is dropped and the shards renumbered.
 */
export function weightFileLayout(shapes: Map<string, number[]>, storage?: WeightStorage): WeightFileLayout {
  const sharded = !!storage?.shards?.size;
  const sourceShards = sharded ? sourceShardFiles(storage!) : [WEIGHTS_FILE];
  const groups = new Map<string, Map<string, Pick<TensorEntry, 'dtype' | 'shape'>>>(
    sourceShards.map((s) => [s, new Map()]),
  );
  const sourcePlace = new Map<string, { file: string; name: string }>();
  for (const [name, shape] of shapes) {
    // A tensor the source did not have goes with the last shard.
    const shard = storage?.shards?.get(name) ?? sourceShards[sourceShards.length - 1];
    const fileName = storage?.fileNames.get(name) ?? name;
    groups.get(shard)!.set(fileName, { dtype: storage?.dtypes.get(name) ?? 'F32', shape });
    sourcePlace.set(name, { file: shard, name: fileName });
  }
  // transformers refuses safetensors files whose metadata does not name the framework.
  if (!sharded) return { files: groups, placeOf: sourcePlace, index: null };

  const kept = sourceShards.filter((s) => groups.get(s)!.size > 0);
  const rename = new Map(
    kept.map((s, i) => [s, kept.length === sourceShards.length ? s : shardName(i + 1, kept.length)]),
  );
  const placeOf = new Map([...sourcePlace].map(([n, p]) => [n, { file: rename.get(p.file)!, name: p.name }]));
  let totalSize = 0;
  for (const entries of groups.values())
    for (const e of entries.values()) totalSize += tensorByteSize(e.dtype, e.shape);
  const weightMap = new Map([...placeOf.values()].map((p) => [p.name, p.file]));
  return {
    files: new Map(kept.map((s) => [rename.get(s)!, groups.get(s)!])),
    placeOf,
    index: writeShardIndex(weightMap, totalSize),
  };
}

/** The metadata every weight file carries: transformers refuses safetensors files that do not name the framework. */
export const WEIGHT_FILE_METADATA = { format: 'pt' };

export function writeWeightFiles(weights: Map<string, HostTensor>, storage?: WeightStorage): Map<string, Uint8Array> {
  const layout = weightFileLayout(new Map([...weights].map(([n, t]) => [n, t.shape])), storage);
  const out = new Map<string, Uint8Array>();
  if (layout.index) out.set(INDEX_FILE, layout.index);
  for (const [file, entries] of layout.files) {
    const data = new Map<string, TensorEntry>();
    for (const [name, place] of layout.placeOf)
      if (place.file === file) data.set(place.name, { ...entries.get(place.name)!, data: weights.get(name)!.data });
    out.set(file, writeSafetensors(data, WEIGHT_FILE_METADATA));
  }
  return out;
}

/** model.safetensors bytes for the given weights: F32, canonical names, as `transformers` saves them. */
export function serializeWeights(weights: Map<string, HostTensor>): Uint8Array {
  return writeWeightFiles(weights).get(WEIGHTS_FILE)!;
}
