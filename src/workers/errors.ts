// Errors on their way across the worker boundary: comlink passes an Error's name and message, so
// each failure becomes a plain Error whose message can be shown to the user as it is.
/** A plain Error (name + message) for any thrown value; cancellations keep the name "AbortError". */
export function toTransferable(error: unknown): Error {
  if (error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)) {
    const e = error as { name?: string; message?: string };
    const out = new Error(e.message || String(error));
    out.name = e.name === 'AbortError' ? 'AbortError' : e.name && e.name !== 'Error' ? e.name : 'EngineError';
    return out;
  }
  const out = new Error(String(error));
  out.name = 'EngineError';
  return out;
}
