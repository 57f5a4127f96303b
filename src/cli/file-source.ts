// A file on disk as a ByteSource: positioned reads through one open handle, so a checkpoint larger
// than memory is read a header and a tensor at a time instead of whole.
import { existsSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { checkRange, type ByteSource } from '../engine/io/byte-source';

/** A ByteSource over an open file; `close` releases the handle (reads after it reject). */
export interface FileSource extends ByteSource {
  readonly path: string;
  close(): Promise<void>;
}

// One read call moves at most this many bytes (Node refuses lengths past 2 GiB - 1), so a tensor
// larger than that is read in pieces into one buffer.
const MAX_CHUNK = 1 << 30;

/** Opens `path` for ranged reads; its size is taken once, when opened. */
export async function openFileSource(path: string): Promise<FileSource> {
  const handle: FileHandle = await open(path, 'r');
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (e) {
    await handle.close();
    throw e;
  }
  return {
    path,
    size,
    read: async (offset, length) => {
      checkRange(offset, length, size);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const want = Math.min(length - done, MAX_CHUNK);
        // A positioned read may return fewer bytes than asked; 0 means the file ended early.
        const { bytesRead } = await handle.read(out, done, want, offset + done);
        if (bytesRead === 0)
          throw new RangeError(
            `${path}: ended at byte ${offset + done}, before the ${size} it had when opened; did the file change?`,
          );
        done += bytesRead;
      }
      return out;
    },
    close: () => handle.close(),
  };
}

/** Opens files of a directory by name as sources (undefined when absent), and closes them all at the end. */
export function directorySources(dir: string): {
  open: (name: string) => Promise<FileSource | undefined>;
  closeAll: () => Promise<void>;
} {
  const opened: FileSource[] = [];
  return {
    open: async (name) => {
      const path = join(dir, name);
      if (!existsSync(path)) return undefined;
      const source = await openFileSource(path);
      opened.push(source);
      return source;
    },
    closeAll: async () => {
      await Promise.allSettled(opened.map((f) => f.close()));
    },
  };
}
