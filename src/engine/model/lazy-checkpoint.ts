// A checkpoint read by ranges: opening it reads config.json's object and each weight file's header
// only, checks them exactly as loadCheckpoint does (the same planWeights, the same messages), and
// then decodes a tensor, or a block's tensors, when asked — so a model larger than memory can be
// pruned a block at a time, holding the embeddings, the head and one block.
import { numLayers, parseConfig, type ModelConfig } from './config';
import {
  CheckpointError,
  checkpointTokenizer,
  nonFinite,
  planWeights,
  weightFilesToRead,
  WEIGHTS_FILE,
  type CheckpointFiles,
  type HostTensor,
  type Located,
  parseIndexJson,
  type WeightPlan,
  type WeightStorage,
} from './checkpoint';
import { blockPrefix } from './schema';
import type { Tokenizer } from './tokenizer';
import { readAll, type ByteSource } from '../io/byte-source';
import { readSafetensorsHeaderFrom, readTensorFrom, SafetensorsError, type SafetensorsHeader } from '../io/safetensors';
import { INDEX_FILE, parseShardIndex, shardFiles } from '../io/shard-index';

export interface LazyCheckpointFiles extends Omit<CheckpointFiles, 'weights'> {
  /** The weights' safetensors files by name, read by ranges: model.safetensors alone, or the shards
   * `index` names (a source alone: model.safetensors). */
  weights: Map<string, ByteSource> | ByteSource;
}

/**
 * The weight files of a checkpoint directory as sources, given a way to open a file of it by name
 * (undefined when absent), as gatherWeightFiles finds them: model.safetensors when there is one,
 * else the index (read whole: it is small) and the shards it names that are there.
 */
export async function gatherWeightSources(
  open: (name: string) => ByteSource | undefined | Promise<ByteSource | undefined>,
): Promise<Pick<LazyCheckpointFiles, 'weights' | 'index'> | null> {
  const single = await open(WEIGHTS_FILE);
  if (single) return { weights: new Map([[WEIGHTS_FILE, single]]) };
  const indexSource = await open(INDEX_FILE);
  if (!indexSource) return null;
  const index = parseShardIndex(parseIndexJson(await readAll(indexSource)));
  const weights = new Map<string, ByteSource>();
  for (const name of shardFiles(index)) {
    const source = await open(name);
    if (source) weights.set(name, source);
  }
  return { weights, index };
}

/** Runs a read of the file `file`, naming it in the message of whatever fails (which file was bad?). */
async function inFileAsync<T>(file: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof SafetensorsError) throw new SafetensorsError(`${file}: ${e.message}`);
    if (e instanceof CheckpointError || (e as { name?: unknown })?.name === 'AbortError') throw e;
    // A source that fails (a file changed or gone since it was opened) is not a bad checkpoint, but
    // the message still has to say which file.
    throw new CheckpointError(`${file}: cannot be read: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}

/** Opens a checkpoint read by ranges; see LazyCheckpoint. */
export async function openCheckpoint(files: LazyCheckpointFiles): Promise<LazyCheckpoint> {
  const sources = files.weights instanceof Map ? files.weights : new Map([[WEIGHTS_FILE, files.weights]]);
  const config = parseConfig(files.config);
  const headers = new Map<string, SafetensorsHeader>();
  for (const file of weightFilesToRead([...sources.keys()], files.index)) {
    const source = sources.get(file)!;
    headers.set(file, await inFileAsync(file, () => readSafetensorsHeaderFrom(source)));
  }
  const plan = planWeights(config, headers, files.index);
  const tokenizer = checkpointTokenizer(config, files);
  return new LazyCheckpoint(config, tokenizer, plan, sources);
}

/**
 * A checkpoint whose weights stay in their files until asked for. What loadCheckpoint returns but the
 * weights: the config, tokenizer, ignored tensors, warnings and storage are the same; each weight is
 * decoded to f32 (bit for bit as loadCheckpoint decodes it) by `tensor`, `tensors` or `block`, and
 * reading it reads its bytes and nothing else. Nothing decoded is kept: the caller frees what it is
 * done with.
 */
export class LazyCheckpoint {
  /** Every weight's shape by canonical name, in the order paramSpecs lists them. */
  readonly shapes: Map<string, number[]>;
  /** The warnings of loading: those of the files at once, and a weight's NaN or infinite values once
   * it has been decoded (at most once per weight), as loadCheckpoint lists them when it decodes all. */
  readonly warnings: string[];
  readonly ignored: string[];
  readonly storage: WeightStorage;
  private readonly located: Map<string, Located>;
  private readonly warned = new Set<string>();

  constructor(
    readonly config: ModelConfig,
    readonly tokenizer: Tokenizer | null,
    plan: WeightPlan,
    private readonly sources: Map<string, ByteSource>,
  ) {
    this.located = plan.weights;
    this.warnings = plan.warnings;
    this.ignored = plan.ignored;
    this.storage = plan.storage;
    this.shapes = new Map([...plan.weights].map(([name, loc]) => [name, loc.info.shape]));
  }

  /** The weights of block `layer` (those under its blockPrefix), in paramSpecs order. */
  blockNames(layer: number): string[] {
    const n = numLayers(this.config);
    if (!Number.isInteger(layer) || layer < 0 || layer >= n)
      throw new RangeError(`block ${layer} does not exist (the model has ${n})`);
    const prefix = blockPrefix(this.config, layer);
    return [...this.shapes.keys()].filter((name) => name.startsWith(prefix));
  }

  /** The weights outside every block: embeddings, final norm, head or classifier, in paramSpecs order. */
  outsideNames(): string[] {
    const inBlocks = new Set<string>();
    for (let l = 0; l < numLayers(this.config); l++) for (const name of this.blockNames(l)) inBlocks.add(name);
    return [...this.shapes.keys()].filter((name) => !inBlocks.has(name));
  }

  /** One weight by canonical name, decoded to f32 from its bytes alone. */
  async tensor(name: string, signal?: AbortSignal): Promise<HostTensor> {
    signal?.throwIfAborted();
    const loc = this.located.get(name);
    if (!loc) throw new CheckpointError(`the checkpoint has no weight "${name}"`);
    const { file, header, info } = loc;
    const source = this.sources.get(file)!;
    const data = (await inFileAsync(file, () => readTensorFrom(source, header, info))).data as Float32Array;
    signal?.throwIfAborted();
    if (!this.warned.has(name)) {
      this.warned.add(name);
      const warning = nonFinite(file, info.name, data);
      if (warning) this.warnings.push(warning);
    }
    return { shape: info.shape, data };
  }

  /** The weights named, by name, read one after another (one tensor's bytes in flight at a time). */
  async tensors(names: Iterable<string>, signal?: AbortSignal): Promise<Map<string, HostTensor>> {
    const out = new Map<string, HostTensor>();
    for (const name of names) out.set(name, await this.tensor(name, signal));
    return out;
  }

  /** Block `layer`'s weights by canonical name. */
  block(layer: number, signal?: AbortSignal): Promise<Map<string, HostTensor>> {
    return this.tensors(this.blockNames(layer), signal);
  }

  /** Bytes of tensor data the named weights take in their files (what reading them reads). */
  storedBytes(names: Iterable<string>): number {
    let total = 0;
    for (const name of names) {
      const info = this.located.get(name)?.info;
      if (info) total += info.end - info.begin;
    }
    return total;
  }
}
