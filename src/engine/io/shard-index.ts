// model.safetensors.index.json: which file holds each tensor of a sharded checkpoint, as
// transformers writes it: {"metadata": {"total_size": bytes of tensor data}, "weight_map": {tensor
// name: shard file name}}. Parsing checks the shape of the index; whether the shards agree with it
// is the checkpoint loader's business, which has the files.
import { SafetensorsError } from './safetensors';

export const INDEX_FILE = 'model.safetensors.index.json';

export interface ShardIndex {
  /** Tensor name → the shard file that holds it. */
  weightMap: Map<string, string>;
  /** metadata.total_size: the bytes of tensor data over all shards (headers excluded), when given. */
  totalSize: number | null;
  /** What is odd about the index but does not stop a load (a total_size that is not a byte count). */
  warnings: string[];
}

const fail = (message: string): never => {
  throw new SafetensorsError(`${INDEX_FILE}: ${message}`);
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (Array.isArray(v)) return 'an array';
  return isObject(v) ? 'an object' : String(v);
}

/**
 * A shard is a file beside the index: a plain name (no folder, not hidden, so a reader never leaves
 * the model's directory) ending in .safetensors.
 */
function isShardName(name: string): boolean {
  return (
    name.endsWith('.safetensors') &&
    name.length > '.safetensors'.length &&
    !/[/\\]/.test(name) &&
    ![...name].some((ch) => ch.charCodeAt(0) < 0x20) &&
    !name.startsWith('.')
  );
}

export function parseShardIndex(json: unknown): ShardIndex {
  if (!isObject(json)) return fail(`expected a JSON object, got ${shown(json)}`);
  const map = json.weight_map;
  if (!isObject(map))
    return fail(`"weight_map" must be an object mapping tensor names to shard files, got ${shown(map)}`);
  const weightMap = new Map<string, string>();
  for (const [name, file] of Object.entries(map)) {
    if (typeof file !== 'string') return fail(`tensor "${name}": the shard must be a file name, got ${shown(file)}`);
    if (!isShardName(file))
      return fail(`tensor "${name}": ${shown(file)} is not a .safetensors file name beside the index`);
    weightMap.set(name, file);
  }
  if (weightMap.size === 0) return fail('"weight_map" lists no tensors');

  // The metadata only describes the shards, so a malformed one is a warning, not a refusal.
  const metadata = json.metadata ?? {};
  const total = isObject(metadata) ? (metadata.total_size ?? null) : metadata;
  const what = isObject(metadata) ? 'metadata.total_size' : 'metadata';
  if (total === null || (typeof total === 'number' && Number.isSafeInteger(total) && total >= 0))
    return { weightMap, totalSize: total, warnings: [] };
  return {
    weightMap,
    totalSize: null,
    warnings: [`${INDEX_FILE}: ${what} is ${shown(total)}, not a byte count; not checked`],
  };
}

/** The shard files an index names, each once, in name order (transformers' numbering is that order). */
export function shardFiles(index: ShardIndex): string[] {
  return [...new Set(index.weightMap.values())].sort();
}

/** transformers' name for shard `i` (from 1) of `n`. */
export function shardName(i: number, n: number): string {
  const five = (k: number) => String(k).padStart(5, '0');
  return `model-${five(i)}-of-${five(n)}.safetensors`;
}

/** The index file for shards holding these tensors, keys sorted as transformers writes them. */
export function writeShardIndex(weightMap: Map<string, string>, totalSize: number): Uint8Array {
  // Built as text: JSON.stringify would put integer-like tensor names first, out of sorted order.
  const names = [...weightMap.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = names.map((n) => `    ${JSON.stringify(n)}: ${JSON.stringify(weightMap.get(n))}`);
  const text = `{\n  "metadata": {\n    "total_size": ${totalSize}\n  },\n  "weight_map": {\n${lines.join(',\n')}\n  }\n}\n`;
  return new TextEncoder().encode(text);
}
