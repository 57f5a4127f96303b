// Cancellation, one way everywhere: long calls take an AbortSignal, check it with
// `signal.throwIfAborted()`, and whoever cancels calls `controller.abort()`, whose default reason is
// the platform's AbortError. This tells that error apart from a failure, on either side of the worker.

/** Whether `e` is a cancellation (an AbortError, as `AbortSignal.throwIfAborted()` throws it). */
export const isAbortError = (e: unknown): boolean =>
  typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';

/** The AbortError a call cancelled outside an AbortSignal rejects with. */
export const abortError = (): DOMException => new DOMException('cancelled', 'AbortError');
