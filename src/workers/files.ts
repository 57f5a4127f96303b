// Turns the files a user chose or dropped into the engine's ModelFiles: which file is which is
// decided by name, as a Hugging Face model directory names them; a sharded checkpoint's shards are
// the files its model.safetensors.index.json names.
import type { ModelFiles } from '../engine/session';
import { WEIGHTS_FILE } from '../engine/model/checkpoint';
import { INDEX_FILE, parseShardIndex, shardFiles, type ShardIndex } from '../engine/io/shard-index';
import type { DroppedFile } from './api';

/** The files of a model directory, by the names the engine knows them by. */
export type Role = 'config' | 'weights' | 'index' | 'tokenizer' | 'tokenizerConfig' | 'evalSet' | 'calibSet';

export const FILE_NAMES: Record<Role, string> = {
  config: 'config.json',
  weights: WEIGHTS_FILE,
  index: INDEX_FILE,
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  evalSet: 'eval.safetensors',
  calibSet: 'calib.safetensors',
};

export class FilesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilesError';
  }
}

/** The file name without folders, lower-cased ("my-model/Config.json" → "config.json"). */
function baseName(name: string): string {
  return name.split(/[\\/]/).pop()!.toLowerCase();
}

export interface SortedFiles {
  byRole: Partial<Record<Role, DroppedFile>>;
  /** Files with no role of their own: a sharded checkpoint's shards among them. */
  rest: DroppedFile[];
}

/**
 * Matches files to roles: the exact names first (model.safetensors wins over an index beside it);
 * then, when there is neither, a single remaining `*.safetensors` is the model's weights (a renamed
 * download such as "model (1).safetensors").
 */
export function sortFiles(files: DroppedFile[]): SortedFiles {
  const byRole: Partial<Record<Role, DroppedFile>> = {};
  const rest: DroppedFile[] = [];
  for (const f of files) {
    const role = (Object.keys(FILE_NAMES) as Role[]).find((r) => FILE_NAMES[r] === baseName(f.name));
    if (role && byRole[role]) throw new FilesError(`${FILE_NAMES[role]} was given twice; give one of each file`);
    if (role) byRole[role] = f;
    else rest.push(f);
  }
  if (byRole.weights && byRole.index) {
    // transformers prefers the single file; the index beside it is not used.
    rest.push(byRole.index);
    delete byRole.index;
  }
  if (!byRole.weights && !byRole.index) {
    const tensors = rest.filter((f) => baseName(f.name).endsWith('.safetensors'));
    if (tensors.length === 1) {
      byRole.weights = tensors[0];
      rest.splice(rest.indexOf(tensors[0]), 1);
    }
  }
  return { byRole, rest };
}

function parseJsonFile(file: DroppedFile, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.bytes));
  } catch (e) {
    throw new FilesError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/** The weights: model.safetensors, or the index and the shards it names that were given (the loader names a missing one). */
function weightFiles(sorted: SortedFiles): {
  weights: Map<string, Uint8Array>;
  index?: ShardIndex;
  shards: DroppedFile[];
} {
  const { byRole, rest } = sorted;
  if (byRole.weights) return { weights: new Map([[WEIGHTS_FILE, byRole.weights.bytes]]), shards: [] };
  const index = parseShardIndex(parseJsonFile(byRole.index!, INDEX_FILE));
  const weights = new Map<string, Uint8Array>();
  const shards: DroppedFile[] = [];
  for (const name of shardFiles(index)) {
    const f = rest.find((r) => baseName(r.name) === name.toLowerCase());
    if (!f) continue;
    weights.set(name, f.bytes);
    shards.push(f);
  }
  return { weights, index, shards };
}

export function toModelFiles(files: DroppedFile[]): { modelFiles: ModelFiles; used: string[]; ignored: string[] } {
  if (files.length === 0) throw new FilesError('no files were given: choose config.json and model.safetensors');
  const sorted = sortFiles(files);
  const { byRole } = sorted;
  const missing = [!byRole.config && FILE_NAMES.config, !byRole.weights && !byRole.index && FILE_NAMES.weights].filter(
    (name): name is string => !!name,
  );
  if (missing.length > 0) {
    const given = files.map((f) => f.name).join(', ');
    throw new FilesError(
      `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing (given: ${given}); a model needs config.json and model.safetensors (or ${INDEX_FILE} and its shards)`,
    );
  }
  const { shards, ...weights } = weightFiles(sorted);
  const modelFiles: ModelFiles = {
    config: parseJsonFile(byRole.config!, FILE_NAMES.config),
    ...weights,
    tokenizer: byRole.tokenizer && parseJsonFile(byRole.tokenizer, FILE_NAMES.tokenizer),
    tokenizerConfig: byRole.tokenizerConfig && parseJsonFile(byRole.tokenizerConfig, FILE_NAMES.tokenizerConfig),
    evalSet: byRole.evalSet?.bytes,
    calibSet: byRole.calibSet?.bytes,
  };
  const used = (Object.keys(FILE_NAMES) as Role[]).filter((r) => byRole[r]).map((r) => FILE_NAMES[r]);
  if (weights.index) used.push(...weights.weights.keys());
  const ignored = files.filter((f) => !Object.values(byRole).includes(f) && !shards.includes(f)).map((f) => f.name);
  return { modelFiles, used, ignored };
}
