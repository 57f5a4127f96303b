// The export of a model read a block at a time goes to the browser's origin-private file system
// (OPFS), written by position as each block is pruned, so the tab never holds the whole checkpoint;
// the page then downloads each file from its disk-backed File. One export is kept: a new one
// replaces it.
import type { ByteSink, OpenSink } from '../engine/export/streamed-export';

/** The parts of a synchronous access handle (dedicated workers only) that the export uses. */
interface SyncAccessHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

type SyncFileHandle = FileSystemFileHandle & { createSyncAccessHandle(): Promise<SyncAccessHandle> };

const FOLDER = 'export';

/** A folder emptied for a new export, with the sinks that write into it and the files written. */
export async function opfsExport(): Promise<{
  open: OpenSink;
  files(): Promise<File[]>;
  discard(): Promise<void>;
  /** Bytes the page may still store (the browser's quota less what it holds). */
  free(): Promise<number>;
}> {
  if (!navigator.storage?.getDirectory)
    throw new Error('this browser has no origin-private file system to write a large export into');
  const root = await navigator.storage.getDirectory();
  await root.removeEntry(FOLDER, { recursive: true }).catch(() => {});
  const dir = await root.getDirectoryHandle(FOLDER, { create: true });
  const names: string[] = [];
  const open: OpenSink = async (name, size) => {
    names.push(name);
    const file = (await dir.getFileHandle(name, { create: true })) as SyncFileHandle;
    const handle = await file.createSyncAccessHandle();
    handle.truncate(size);
    const sink: ByteSink = {
      write: async (offset, bytes) => {
        let done = 0;
        while (done < bytes.length) done += handle.write(bytes.subarray(done), { at: offset + done });
      },
      close: async () => {
        handle.flush();
        handle.close();
      },
    };
    return sink;
  };
  return {
    open,
    files: () => Promise.all(names.map(async (n) => (await dir.getFileHandle(n)).getFile())),
    discard: () => root.removeEntry(FOLDER, { recursive: true }).catch(() => {}),
    free: async () => {
      const { quota, usage } = await navigator.storage.estimate();
      return quota === undefined ? Number.POSITIVE_INFINITY : quota - (usage ?? 0);
    },
  };
}
