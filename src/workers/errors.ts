// Errors on their way across the worker boundary: comlink passes an Error's name and message, so
// each failure becomes a plain Error whose message can be shown to the user as it is.
/**
 * What WebAssembly says when the engine's heap (at most 4 GB) is exhausted: Emscripten's abort,
 * an access past the heap's end, a failed allocation. The module is unusable afterwards.
 */
const OUT_OF_MEMORY = /^Aborted\(|memory access out of bounds|out of memory|Array buffer allocation failed/i;

/** The engine's words for running out of memory, with what needs less. */
function outOfMemoryMessage(raw: string): string {
  return `the engine ran out of memory (WebAssembly holds at most 4 GB; it said "${raw}"). Shorter windows of text, fewer calibration examples or a smaller model need less, and the command line prunes a model a block at a time (--memory-budget). Reload the page to start the engine again: the configuration is kept.`;
}

/** A plain Error (name + message) for any thrown value; cancellations keep the name "AbortError". */
export function toTransferable(error: unknown): Error {
  if (error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)) {
    const e = error as { name?: string; message?: string };
    if (e.message && OUT_OF_MEMORY.test(e.message)) {
      const out = new Error(outOfMemoryMessage(e.message));
      out.name = 'OutOfMemoryError';
      return out;
    }
    const out = new Error(e.message || String(error));
    out.name = e.name === 'AbortError' ? 'AbortError' : e.name && e.name !== 'Error' ? e.name : 'EngineError';
    return out;
  }
  const out = new Error(String(error));
  out.name = 'EngineError';
  return out;
}
