// Random access to a file's bytes without holding the file: a checkpoint larger than memory is read
// a header and a tensor at a time. The page reads a File by slices, Node by positioned reads
// (src/cli/file-source.ts), tests and already-loaded files from their bytes.

/** A file's bytes, read by ranges. */
export interface ByteSource {
  /** The file's length in bytes. */
  readonly size: number;
  /**
   * The `length` bytes at `offset`, in a buffer of their own that the caller may keep and change
   * (a decoded F32 tensor is a view on it, not a copy). Rejects a range outside [0, size).
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Refuses a range outside a source of `size` bytes (a caller's mistake, not a bad file). */
export function checkRange(offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
    throw new RangeError(`cannot read ${length} bytes at offset ${offset}`);
  if (offset + length > size)
    throw new RangeError(`cannot read bytes [${offset}, ${offset + length}) of a ${size}-byte file`);
}

/** A source over bytes already in memory; each read is a copy, so the caller owns what it gets. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: async (offset, length) => {
      checkRange(offset, length, bytes.length);
      return bytes.slice(offset, offset + length);
    },
  };
}

/** A source over a Blob (a File the user picked or dropped): only the slices read are loaded. */
export function blobSource(blob: Blob): ByteSource {
  return {
    size: blob.size,
    read: async (offset, length) => {
      checkRange(offset, length, blob.size);
      const bytes = new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
      // A File changed on disk after it was picked reads short (or fails) rather than as it was.
      if (bytes.length !== length)
        throw new RangeError(
          `read ${bytes.length} bytes at offset ${offset} instead of ${length}; did the file change?`,
        );
      return bytes;
    },
  };
}

/** A source's whole content (a small file such as an index; never the weights). */
export function readAll(source: ByteSource): Promise<Uint8Array> {
  return source.read(0, source.size);
}
