// Turns the files a user chose or dropped into the engine's ModelFiles: which file is which is
// decided by name, as a Hugging Face model directory names them.
import type { ModelFiles } from '../engine/session';
import type { DroppedFile } from './api';

/** The files of a model directory, by the names the engine knows them by. */
export type Role = 'config' | 'weights' | 'tokenizer' | 'tokenizerConfig' | 'evalSet' | 'calibSet';

export const FILE_NAMES: Record<Role, string> = {
  config: 'config.json',
  weights: 'model.safetensors',
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
  ignored: string[];
}

/**
 * Matches files to roles: the exact names first; then a single remaining `*.safetensors` is the
 * model's weights (a renamed download such as "model (1).safetensors").
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
  if (!byRole.weights) {
    const tensors = rest.filter((f) => baseName(f.name).endsWith('.safetensors'));
    if (tensors.length === 1) {
      byRole.weights = tensors[0];
      rest.splice(rest.indexOf(tensors[0]), 1);
    }
  }
  return { byRole, ignored: rest.map((f) => f.name) };
}

function parseJsonFile(file: DroppedFile, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.bytes));
  } catch (e) {
    throw new FilesError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

export function toModelFiles(files: DroppedFile[]): { modelFiles: ModelFiles; used: string[]; ignored: string[] } {
  if (files.length === 0) throw new FilesError('no files were given: choose config.json and model.safetensors');
  const { byRole, ignored } = sortFiles(files);
  const missing = (['config', 'weights'] as const).filter((r) => !byRole[r]).map((r) => FILE_NAMES[r]);
  if (missing.length > 0) {
    const given = files.map((f) => f.name).join(', ');
    throw new FilesError(
      `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing (given: ${given}); a model needs config.json and model.safetensors`,
    );
  }
  const modelFiles: ModelFiles = {
    config: parseJsonFile(byRole.config!, FILE_NAMES.config),
    weights: byRole.weights!.bytes,
    tokenizer: byRole.tokenizer && parseJsonFile(byRole.tokenizer, FILE_NAMES.tokenizer),
    tokenizerConfig: byRole.tokenizerConfig && parseJsonFile(byRole.tokenizerConfig, FILE_NAMES.tokenizerConfig),
    evalSet: byRole.evalSet?.bytes,
    calibSet: byRole.calibSet?.bytes,
  };
  const used = (Object.keys(FILE_NAMES) as Role[]).filter((r) => byRole[r]).map((r) => FILE_NAMES[r]);
  return { modelFiles, used, ignored };
}
