// A model directory on disk (public/models/<id>/ layout, weights in one model.safetensors or sharded
// with model.safetensors.index.json) → ModelFiles + the files an export copies, and the session
// opened from them, with every problem reported as one line naming the file.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelSession, type ModelFiles } from '../engine/session';
import { SafetensorsError } from '../engine/io/safetensors';
import { INDEX_FILE } from '../engine/io/shard-index';
import { gatherWeightFiles, WEIGHTS_FILE } from '../engine/model/checkpoint';
import { gatherWeightSources, type LazyCheckpoint, openCheckpoint } from '../engine/model/lazy-checkpoint';
import { directorySources } from './file-source';
import { DataSetError, parseDataSet, type DataSet, type ImageSet } from '../engine/data/datasets';
import {
  decodeImage,
  folderNameOf,
  IMAGE_EXTENSIONS,
  labelOfFolder,
  imageFolderSet,
  imageProcessor,
  type ImageProcessor,
  type LabelledImage,
  modelInput,
  normalizationOf,
  preprocessImage,
} from '../engine/data/images';
import { textSet } from '../engine/data/text';
import { type Tokenizer, TokenizerError } from '../engine/model/tokenizer';
import { COPIED_FILES } from '../engine/export/checkpoint-export';
import { isCausalLm, type ModelConfig, sequenceLength, type VitConfig } from '../engine/model/config';
import { CliError } from './errors';

const PREPROCESSOR_FILE = 'preprocessor_config.json';

export interface ModelDir {
  dir: string;
  files: ModelFiles;
  /** Files an export copies as they are (tokenizer.json, preprocessor_config.json, …). */
  extraFiles: Record<string, Uint8Array>;
}

/** What reading data for a model needs of its directory: the path, and the processor's file. */
export type DataDir = Pick<ModelDir, 'dir' | 'extraFiles'>;

/** An opened model as data reading and recipes see it, loaded whole (ModelSession) or not (LazyCheckpoint). */
export interface OpenModel {
  readonly config: ModelConfig;
  readonly tokenizer: Tokenizer | null;
}

function readBytes(path: string): Uint8Array {
  try {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength); // the file's bytes, not a copy of them
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function parseJson(bytes: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new CliError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** A model directory's files but the weights: config.json, tokenizer, data sets, files an export copies. */
function readModelDirMeta(dir: string): {
  files: Omit<ModelFiles, 'weights' | 'index'>;
  extraFiles: Record<string, Uint8Array>;
} {
  if (!existsSync(dir)) throw new CliError(`model directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new CliError(`${dir} is not a directory (--model takes a model directory)`);
  const path = (name: string) => join(dir, name);
  const opt = (name: string) => (existsSync(path(name)) ? readBytes(path(name)) : undefined);
  const config = opt('config.json');
  if (!config) throw new CliError(`${dir} has no config.json (is it a model directory?)`);
  const extraFiles: Record<string, Uint8Array> = {};
  for (const name of COPIED_FILES) {
    const b = opt(name);
    if (b) extraFiles[name] = b;
  }
  const tokenizer = extraFiles['tokenizer.json'];
  const tokenizerConfig = extraFiles['tokenizer_config.json'];
  return {
    files: {
      config: parseJson(config, path('config.json')),
      tokenizer: tokenizer && parseJson(tokenizer, path('tokenizer.json')),
      tokenizerConfig: tokenizerConfig && parseJson(tokenizerConfig, path('tokenizer_config.json')),
      evalSet: opt('eval.safetensors'),
      calibSet: opt('calib.safetensors'),
    },
    extraFiles,
  };
}

export function readModelDir(dir: string): ModelDir {
  const meta = readModelDirMeta(dir);
  const opt = (name: string) => (existsSync(join(dir, name)) ? readBytes(join(dir, name)) : undefined);
  let weights: ReturnType<typeof gatherWeightFiles>;
  try {
    weights = gatherWeightFiles(opt);
  } catch (e) {
    throw e instanceof SafetensorsError ? withPath(dir, e) : e;
  }
  if (!weights) throw new CliError(`${dir} has no ${WEIGHTS_FILE} (nor ${INDEX_FILE})`);
  return { dir, files: { ...meta.files, ...weights }, extraFiles: meta.extraFiles };
}

/** A model directory opened without reading its weights: headers checked, tensors read when asked. */
export interface LazyModelDir extends DataDir {
  checkpoint: LazyCheckpoint;
  evalSet: DataSet | null;
  calibSet: DataSet | null;
  /** Releases the weight files. */
  close(): Promise<void>;
}

/** Opens a model directory lazily (see LazyCheckpoint), each problem one line naming the file. */
export async function openModelDirLazily(dir: string): Promise<LazyModelDir> {
  const meta = readModelDirMeta(dir);
  const files = directorySources(dir);
  const close = files.closeAll;
  try {
    const sources = await gatherWeightSources(files.open);
    if (!sources) throw new CliError(`${dir} has no ${WEIGHTS_FILE} (nor ${INDEX_FILE})`);
    let checkpoint: LazyCheckpoint;
    let evalSet: DataSet | null;
    let calibSet: DataSet | null;
    try {
      checkpoint = await openCheckpoint({ ...meta.files, ...sources });
      evalSet = meta.files.evalSet ? parseDataSet(meta.files.evalSet, 'eval.safetensors') : null;
      calibSet = meta.files.calibSet ? parseDataSet(meta.files.calibSet, 'calib.safetensors') : null;
    } catch (e) {
      throw engineError(dir, e);
    }
    return { dir, extraFiles: meta.extraFiles, checkpoint, evalSet, calibSet, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * An engine error as one line naming the file by its path: engine messages start with the file they
 * concern ("model-00002-of-00002.safetensors: …", "config.json: …").
 */
function withPath(dir: string, e: Error): CliError {
  const file = /^([^\s/\\:]+\.(?:json|safetensors)):\s*/.exec(e.message);
  if (!file) return new CliError(`${dir}: ${e.message}`);
  const corrupt = e instanceof SafetensorsError ? ' is corrupt' : '';
  return new CliError(`${join(dir, file[1])}${corrupt}: ${e.message.slice(file[0].length)}`);
}

/** Opens the session; a corrupt file is named in the message. */
export function openSession(md: ModelDir): ModelSession {
  try {
    return ModelSession.open(md.files);
  } catch (e) {
    throw engineError(md.dir, e);
  }
}

/** An engine error on opening the model in `dir` as one line naming the file; others as they are. */
function engineError(dir: string, e: unknown): unknown {
  const msg = (e as Error).message;
  if (e instanceof TokenizerError && !/^tokenizer(_config)?\.json/.test(msg))
    return new CliError(`${join(dir, 'tokenizer.json')}: ${msg}`);
  if (e instanceof Error && e.constructor !== Error && !(e instanceof CliError)) return withPath(dir, e);
  return e;
}

/** What a data path is read for, in messages. */
export type DataUse = 'calibration' | 'evaluation' | 'recovery';

function checkImagesFit(set: ImageSet, path: string, config: VitConfig): void {
  const [c, h, w] = set.shape;
  if (c !== config.numChannels || h !== config.imageSize || w !== config.imageSize) {
    throw new CliError(
      `${path} holds ${c}×${h}×${w} images, but the model expects ${config.numChannels}×${config.imageSize}×${config.imageSize}`,
    );
  }
}

/** The processor preprocessor_config.json describes (ViTImageProcessor's defaults without it). */
export function processorOf(md: DataDir, config: VitConfig): ImageProcessor {
  const file = md.extraFiles[PREPROCESSOR_FILE];
  const path = join(md.dir, PREPROCESSOR_FILE);
  try {
    return imageProcessor(config, file && parseJson(file, path));
  } catch (e) {
    // The engine's message starts with the file's name; the path replaces it.
    if (e instanceof DataSetError) throw new CliError(`${path}${e.message.slice(PREPROCESSOR_FILE.length)}`);
    throw e;
  }
}

/** An engine data error as one line naming the file (the engine's messages name it already). */
function dataError(e: unknown): never {
  if (e instanceof DataSetError) throw new CliError(e.message);
  throw e;
}

/**
 * A folder of labelled images: one subfolder per class, named by its label, of PNG or JPEG files
 * (other files are ignored; a subfolder that is not a label, or no image at all, is an error naming
 * the path).
 */
export function readImageFolder(dir: string, config: VitConfig, processor: ImageProcessor): ImageSet {
  const entries = readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const isImage = (name: string) => IMAGE_EXTENSIONS.some((x) => name.toLowerCase().endsWith(x));
  const loose = entries.find((e) => e.isFile() && isImage(e.name));
  if (loose)
    throw new CliError(`${join(dir, loose.name)}: images go in a subfolder named by their class (${dir}/<label>/…)`);
  const files: LabelledImage[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const sub = join(dir, e.name);
    const label = labelOfFolder(config.labels, e.name);
    if (label === undefined) {
      const some = config.labels.slice(0, 12).map(folderNameOf).join(', ');
      throw new CliError(
        `${sub}: "${e.name}" is not one of the model's labels (folders: ${some}${config.labels.length > 12 ? ', …' : ''})`,
      );
    }
    for (const f of readdirSync(sub).sort()) {
      if (f.startsWith('.') || !isImage(f)) continue;
      files.push({ label, name: join(sub, f), bytes: readBytes(join(sub, f)) });
    }
  }
  if (files.length === 0)
    throw new CliError(`${dir} has no PNG or JPEG images in class subfolders (${dir}/<label>/<image>.png)`);
  try {
    return imageFolderSet(files, config, processor);
  } catch (e) {
    dataError(e);
  }
}

/**
 * A data set the user names for calibration or evaluation: a UTF-8 text file (text models), a
 * folder of class subfolders of images (image models), or a .safetensors data set (either). Every
 * problem is one line naming the path.
 */
export function readDataPath(path: string, use: DataUse, config: ModelConfig, md: DataDir): DataSet {
  if (!existsSync(path)) throw new CliError(`${use} file ${path} does not exist`);
  const image = config.kind === 'vit';
  if (statSync(path).isDirectory()) {
    if (!image) throw new CliError(`${path} is a directory, but the model reads text: give a UTF-8 text file`);
    return readImageFolder(path, config, processorOf(md, config));
  }
  const bytes = readBytes(path);
  let set: DataSet;
  if (path.toLowerCase().endsWith('.safetensors')) {
    try {
      set = parseDataSet(bytes, path);
    } catch (e) {
      const msg = (e as Error).message;
      const detail = msg.startsWith(`${path}: `) ? msg.slice(path.length + 2) : msg; // the engine names the file too
      throw new CliError(e instanceof SafetensorsError ? `${path} is corrupt: ${detail}` : msg);
    }
  } else if (image) {
    throw new CliError(
      `${path} is a file, but the model classifies images: give a folder with one subfolder of PNG or JPEG images per class (or a .safetensors with "images" and "labels")`,
    );
  } else {
    try {
      set = textSet(bytes, path);
    } catch (e) {
      dataError(e);
    }
  }
  if (!image && set.kind !== 'text') throw new CliError(`${path} holds images, but the model reads text`);
  if (config.kind === 'vit') {
    if (set.kind !== 'images')
      throw new CliError(
        `${path} holds text, but the model classifies images (give a folder of images, or a .safetensors with "images" and "labels")`,
      );
    checkImagesFit(set, path, config);
  }
  return set;
}

/** A calibration set from a path (see readDataPath), checked to hold at least one window of text. */
export function readCalibrationFile(path: string, session: OpenModel, md: DataDir): DataSet {
  const c = session.config;
  const set = readDataPath(path, 'calibration', c, md);
  if (set.kind === 'text' && isCausalLm(c)) {
    const t = sequenceLength(c);
    const tokens = session.tokenizer!.encode(new TextDecoder().decode(set.bytes)).length;
    if (tokens < t + 1)
      throw new CliError(
        `${path} is too short to calibrate on: it encodes to ${tokens} tokens, and one window needs ${t + 1}`,
      );
  }
  return set;
}

/** One image file as the model's input, preprocessed as the model's processor says. */
export function readImageInput(path: string, config: VitConfig, md: ModelDir): Uint8Array | Float32Array {
  if (!existsSync(path)) throw new CliError(`image ${path} does not exist`);
  if (statSync(path).isDirectory()) throw new CliError(`${path} is a directory; --image takes one PNG or JPEG file`);
  const p = processorOf(md, config);
  try {
    return modelInput(preprocessImage(decodeImage(readBytes(path), path), config, p, path), config, normalizationOf(p));
  } catch (e) {
    dataError(e);
  }
}
