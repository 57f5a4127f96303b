// A model directory on disk (public/models/<id>/ layout, weights in one model.safetensors or sharded
// with model.safetensors.index.json) → ModelFiles + the files an export copies, and the session
// opened from them, with every problem reported as one line naming the file.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelSession, type ModelFiles } from '../engine/session';
import { SafetensorsError } from '../engine/io/safetensors';
import { INDEX_FILE } from '../engine/io/shard-index';
import { gatherWeightFiles, WEIGHTS_FILE } from '../engine/model/checkpoint';
import { parseDataSet, type DataSet } from '../engine/data/datasets';
import { TokenizerError } from '../engine/model/tokenizer';
import { COPIED_FILES } from '../engine/export/checkpoint-export';
import type { ModelConfig } from '../engine/model/config';
import { CliError } from './errors';

export interface ModelDir {
  dir: string;
  files: ModelFiles;
  /** Files an export copies as they are (tokenizer.json, preprocessor_config.json, …). */
  extraFiles: Record<string, Uint8Array>;
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

export function readModelDir(dir: string): ModelDir {
  if (!existsSync(dir)) throw new CliError(`model directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new CliError(`${dir} is not a directory (--model takes a model directory)`);
  const path = (name: string) => join(dir, name);
  const opt = (name: string) => (existsSync(path(name)) ? readBytes(path(name)) : undefined);
  const config = opt('config.json');
  if (!config) throw new CliError(`${dir} has no config.json (is it a model directory?)`);
  let weights: ReturnType<typeof gatherWeightFiles>;
  try {
    weights = gatherWeightFiles(opt);
  } catch (e) {
    throw e instanceof SafetensorsError ? withPath(dir, e) : e;
  }
  if (!weights) throw new CliError(`${dir} has no ${WEIGHTS_FILE} (nor ${INDEX_FILE})`);
  const extraFiles: Record<string, Uint8Array> = {};
  for (const name of COPIED_FILES) {
    const b = opt(name);
    if (b) extraFiles[name] = b;
  }
  const tokenizer = extraFiles['tokenizer.json'];
  const tokenizerConfig = extraFiles['tokenizer_config.json'];
  return {
    dir,
    files: {
      config: parseJson(config, path('config.json')),
      ...weights,
      tokenizer: tokenizer && parseJson(tokenizer, path('tokenizer.json')),
      tokenizerConfig: tokenizerConfig && parseJson(tokenizerConfig, path('tokenizer_config.json')),
      evalSet: opt('eval.safetensors'),
      calibSet: opt('calib.safetensors'),
    },
    extraFiles,
  };
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
    const msg = (e as Error).message;
    if (e instanceof TokenizerError && !/^tokenizer(_config)?\.json/.test(msg))
      throw new CliError(`${join(md.dir, 'tokenizer.json')}: ${msg}`);
    if (e instanceof Error && e.constructor !== Error) throw withPath(md.dir, e);
    throw e;
  }
}

/** A calibration set from a file: UTF-8 text, or a .safetensors data set (text bytes or images). */
export function readCalibrationFile(path: string, config: ModelConfig): DataSet {
  if (!existsSync(path)) throw new CliError(`calibration file ${path} does not exist`);
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
  } else {
    set = { kind: 'text', bytes };
  }
  if (config.kind !== 'vit' && set.kind !== 'text')
    throw new CliError(`${path} holds images, but the model reads text`);
  if (config.kind === 'vit') {
    if (set.kind !== 'images')
      throw new CliError(
        `${path} holds text, but the model classifies images (give a .safetensors with "images" and "labels")`,
      );
    const [c, h, w] = set.shape;
    if (c !== config.numChannels || h !== config.imageSize || w !== config.imageSize) {
      throw new CliError(
        `${path} holds ${c}×${h}×${w} images, but the model expects ${config.numChannels}×${config.imageSize}×${config.imageSize}`,
      );
    }
  }
  if (set.kind === 'text' && set.bytes.length === 0) throw new CliError(`${path} is empty`);
  return set;
}
