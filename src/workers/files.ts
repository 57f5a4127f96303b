// Turns the files a user chose or dropped into the engine's model files: which file is which is
// decided by name, as a Hugging Face model directory names them; a sharded checkpoint's shards are
// the files its model.safetensors.index.json names. The weights stay in their files (read by ranges)
// until the worker knows whether the model fits whole; everything else is small and read at once.
import type { ModelFiles } from '../engine/session';
import { WEIGHTS_FILE } from '../engine/model/checkpoint';
import { COPIED_FILES } from '../engine/export/checkpoint-export';
import type { LazyCheckpointFiles } from '../engine/model/lazy-checkpoint';
import { blobSource, bytesSource, readAll, type ByteSource } from '../engine/io/byte-source';
import { INDEX_FILE, parseShardIndex, shardFiles, type ShardIndex } from '../engine/io/shard-index';
import type { DroppedFile, PickedFile } from './api';

/** A given file, its bytes not read yet. */
export interface GivenFile {
  name: string;
  source: ByteSource;
}

/** A file as the page handed it over: the File itself, or bytes already read. */
export const givenFile = (f: DroppedFile | PickedFile): GivenFile => ({
  name: f.name,
  source: 'blob' in f ? blobSource(f.blob) : bytesSource(f.bytes),
});

/** A model's files with the weights still unread. */
export interface LazyModelFiles extends LazyCheckpointFiles {
  weights: Map<string, ByteSource>;
  evalSet?: Uint8Array;
  calibSet?: Uint8Array;
}

/** The model files with every weight file read whole. */
export async function readWeights(files: LazyModelFiles): Promise<ModelFiles> {
  const weights = new Map<string, Uint8Array>();
  for (const [name, source] of files.weights) weights.set(name, await readAll(source));
  return { ...files, weights };
}

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
  byRole: Partial<Record<Role, GivenFile>>;
  /** Files with no role of their own: a sharded checkpoint's shards among them. */
  rest: GivenFile[];
}

/**
 * Matches files to roles: the exact names first (model.safetensors wins over an index beside it);
 * then, when there is neither, a single remaining `*.safetensors` is the model's weights (a renamed
 * download such as "model (1).safetensors").
 */
export function sortFiles(files: GivenFile[]): SortedFiles {
  const byRole: Partial<Record<Role, GivenFile>> = {};
  const rest: GivenFile[] = [];
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

async function parseJsonFile(file: GivenFile, what: string): Promise<unknown> {
  const bytes = await readAll(file.source);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new FilesError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/** The weights: model.safetensors, or the index and the shards it names that were given (the loader names a missing one). */
async function weightFiles(sorted: SortedFiles): Promise<{
  weights: Map<string, ByteSource>;
  index?: ShardIndex;
  shards: GivenFile[];
}> {
  const { byRole, rest } = sorted;
  if (byRole.weights) return { weights: new Map([[WEIGHTS_FILE, byRole.weights.source]]), shards: [] };
  const index = parseShardIndex(await parseJsonFile(byRole.index!, INDEX_FILE));
  const weights = new Map<string, ByteSource>();
  const shards: GivenFile[] = [];
  for (const name of shardFiles(index)) {
    const f = rest.find((r) => baseName(r.name) === name.toLowerCase());
    if (!f) continue;
    weights.set(name, f.source);
    shards.push(f);
  }
  return { weights, index, shards };
}

export async function toModelFiles(
  files: GivenFile[],
): Promise<{ modelFiles: LazyModelFiles; used: string[]; ignored: string[]; copied: Record<string, Uint8Array> }> {
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
  const { shards, ...weights } = await weightFiles(sorted);
  const modelFiles: LazyModelFiles = {
    config: await parseJsonFile(byRole.config!, FILE_NAMES.config),
    ...weights,
    tokenizer: byRole.tokenizer && (await parseJsonFile(byRole.tokenizer, FILE_NAMES.tokenizer)),
    tokenizerConfig:
      byRole.tokenizerConfig && (await parseJsonFile(byRole.tokenizerConfig, FILE_NAMES.tokenizerConfig)),
    evalSet: byRole.evalSet && (await readAll(byRole.evalSet.source)),
    calibSet: byRole.calibSet && (await readAll(byRole.calibSet.source)),
  };
  const used = (Object.keys(FILE_NAMES) as Role[]).filter((r) => byRole[r]).map((r) => FILE_NAMES[r]);
  if (weights.index) used.push(...weights.weights.keys());
  const ignored = files.filter((f) => !Object.values(byRole).includes(f) && !shards.includes(f)).map((f) => f.name);
  // What an export carries over as it is (the tokenizer above all), by its name in a model directory.
  const copied: Record<string, Uint8Array> = {};
  for (const f of files) {
    const name = baseName(f.name);
    if ((COPIED_FILES as readonly string[]).includes(name) && !(name in copied)) copied[name] = await readAll(f.source);
  }
  return { modelFiles, used, ignored, copied };
}
