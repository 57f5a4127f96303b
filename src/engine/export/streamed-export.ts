// An export written as the model is pruned a block at a time: each weight file's header is laid
// down first (the names, dtypes and shapes are known from the source before any value is), then each
// tensor's bytes go to their range as soon as its block is done, so no more than one block is ever
// held. The files are the ones exportCheckpoint writes for the same unstructured pruning, byte for
// byte: the source's names, dtypes and shards, masks.safetensors beside them.
import type { HostTensor, WeightStorage } from '../model/checkpoint';
import { WEIGHT_FILE_METADATA, weightFileLayout } from '../model/checkpoint';
import { INDEX_FILE } from '../io/shard-index';
import { encodeTensorBytes, safetensorsLayout, type TensorEntry } from '../io/safetensors';
import { ExportError, MASKS_FILE, MASKS_METADATA } from './checkpoint-export';

/** Where a file's bytes go, by position: a file on disk in Node, a store in the browser, memory in tests. */
export interface ByteSink {
  write(offset: number, bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Opens the sink of the file `name`, which will hold `size` bytes. */
export type OpenSink = (name: string, size: number) => Promise<ByteSink>;

interface Slot {
  sink: ByteSink;
  begin: number;
  entry: Pick<TensorEntry, 'dtype' | 'shape'>;
  fileName: string;
  written: boolean;
}

/** The weight files and masks.safetensors of an export, filled a tensor at a time. */
export class StreamedExport {
  private constructor(
    private readonly weights: Map<string, Slot>,
    private readonly masks: Map<string, Slot>,
    private readonly sinks: ByteSink[],
    /** Every file written, with its size, in writing order. */
    readonly files: { name: string; bytes: number }[],
  ) {}

  /**
   * Lays out and opens the files: weights of these shapes, stored as `storage` says (as
   * writeWeightFiles does), and a U8 mask for each of `masked`, under the names the weights have in
   * their files. The shard index, when sharded, is written at once.
   */
  static async open(
    shapes: Map<string, number[]>,
    storage: WeightStorage,
    masked: string[],
    open: OpenSink,
  ): Promise<StreamedExport> {
    const layout = weightFileLayout(shapes, storage);
    const sinks: ByteSink[] = [];
    const files: { name: string; bytes: number }[] = [];
    const weights = new Map<string, Slot>();
    const masks = new Map<string, Slot>();
    const exporter = new StreamedExport(weights, masks, sinks, files);
    try {
      if (layout.index) {
        const sink = await open(INDEX_FILE, layout.index.length);
        sinks.push(sink);
        await sink.write(0, layout.index);
        files.push({ name: INDEX_FILE, bytes: layout.index.length });
      }
      const place = async (
        file: string,
        entries: Map<string, Pick<TensorEntry, 'dtype' | 'shape'>>,
        metadata: Record<string, string>,
      ) => {
        const l = safetensorsLayout(entries, metadata);
        const sink = await open(file, l.size);
        sinks.push(sink);
        await sink.write(0, l.header);
        files.push({ name: file, bytes: l.size });
        return { sink, ranges: l.ranges };
      };
      for (const [file, entries] of layout.files) {
        const { sink, ranges } = await place(file, entries, WEIGHT_FILE_METADATA);
        for (const [name, p] of layout.placeOf) {
          if (p.file !== file) continue;
          const entry = entries.get(p.name)!;
          weights.set(name, { sink, begin: ranges.get(p.name)![0], entry, fileName: p.name, written: false });
        }
      }
      const maskEntries = new Map(
        masked.map((name) => {
          const shape = shapes.get(name);
          if (!shape) throw new ExportError(`a mask is given for "${name}", which the model does not have`);
          return [layout.placeOf.get(name)!.name, { dtype: 'U8' as const, shape }];
        }),
      );
      const { sink, ranges } = await place(MASKS_FILE, maskEntries, MASKS_METADATA);
      for (const name of masked) {
        const fileName = layout.placeOf.get(name)!.name;
        masks.set(name, {
          sink,
          begin: ranges.get(fileName)![0],
          entry: maskEntries.get(fileName)!,
          fileName,
          written: false,
        });
      }
    } catch (e) {
      await exporter.abandon();
      throw e;
    }
    return exporter;
  }

  /** Writes weight `name` (canonical), rounded to its stored dtype. */
  put(name: string, t: HostTensor): Promise<void> {
    return this.fill(this.weights, 'weight', name, t.data);
  }

  /** Writes the 0/1 mask of weight `name`. */
  putMask(name: string, mask: Uint8Array): Promise<void> {
    return this.fill(this.masks, 'mask', name, mask);
  }

  private async fill(
    slots: Map<string, Slot>,
    what: string,
    name: string,
    data: Float32Array | Uint8Array,
  ): Promise<void> {
    const slot = slots.get(name);
    if (!slot) throw new ExportError(`the export has no ${what} "${name}"`);
    if (slot.written) throw new ExportError(`${what} "${name}" is written twice`);
    const bytes = encodeTensorBytes(slot.fileName, { ...slot.entry, data } as TensorEntry);
    await slot.sink.write(slot.begin, bytes);
    slot.written = true;
  }

  /** Closes every file once every weight and mask is written; names the first missing one otherwise. */
  async finish(): Promise<void> {
    for (const [slots, what] of [
      [this.weights, 'weight'],
      [this.masks, 'mask'],
    ] as const) {
      const missing = [...slots].find(([, s]) => !s.written);
      if (missing) {
        await this.abandon();
        throw new ExportError(`${what} "${missing[0]}" was never written`);
      }
    }
    await Promise.all(this.sinks.map((s) => s.close()));
  }

  /** Closes every file without checking (after a failure or a cancel: the caller removes them). */
  async abandon(): Promise<void> {
    await Promise.allSettled(this.sinks.map((s) => s.close()));
  }
}
