// How the store follows work in the engine worker: one state shape for every job a view waits on
// (measuring, pruning, a sweep, an export, an inspection, a layer's detail...), one slot per kind of
// job that starts it, keeps only the newest, reports its progress and settles the state, and the
// store's lifetime, which owns every slot and timer so that `dispose()` leaves nothing running.
import { errorMessage, isAbortError, type Job, type Progress, type ProgressFn } from '../workers/client';

/** An answer a view has shown: kept while the next one is computed, or after it failed or was cancelled. */
export interface Shown<T> {
  key: string;
  value: T;
}

/** A job of the worker as a view sees it; `key` says what it was asked (a recipe, a layer, an input). */
export type JobState<T> =
  | { status: 'idle' }
  | { status: 'running'; key: string; progress: Progress; last: Shown<T> | null }
  | { status: 'done'; key: string; value: T }
  | { status: 'failed'; key: string; message: string; last: Shown<T> | null }
  /** Stopped by the user (Cancel), not by a newer request. */
  | { status: 'cancelled'; key: string; last: Shown<T> | null };

export const IDLE = { status: 'idle' } as const;

/** What to show: the answer just in, else the last one before the job now running, failed or cancelled. */
export function shownOf<T>(s: JobState<T>): Shown<T> | null {
  if (s.status === 'done') return { key: s.key, value: s.value };
  return s.status === 'idle' ? null : s.last;
}

/** How one start ended for its caller; 'dropped': a newer start, the worker or the store's end stopped it. */
export type Outcome<T> =
  | { status: 'done'; value: T }
  | { status: 'failed'; message: string }
  | { status: 'cancelled' }
  | { status: 'dropped' };

const DROPPED = { status: 'dropped' } as const;

export interface JobSlot<T> {
  /**
   * Starts a job for `key` and follows it in the state, cancelling the one before (whose answer is
   * then dropped). The promise never rejects.
   */
  start(key: string, begin: (onProgress: ProgressFn) => Job<T>, initial: Progress): Promise<Outcome<T>>;
  /** The user's Cancel: the job ends as 'cancelled'. */
  cancel(): void;
  /** Stops the job; the state goes back to the answer shown before it (else idle), as if it never ran. */
  stop(): void;
  /** Stops the job without a trace and puts `state` in its place (the idle state by default). */
  reset(state?: JobState<T>): void;
}

/** A job's result with its value turned into what the state keeps. */
export function mapJob<A, B>(job: Job<A>, f: (value: A) => B): Job<B> {
  return { ...job, result: job.result.then(f) };
}

export interface Jobs {
  /** A slot whose state is read and written through `read` and `write` (a field of the store). */
  slot<T>(read: () => JobState<T>, write: (state: JobState<T>) => void): JobSlot<T>;
  /**
   * A call made at once when none was made in the last `ms`; requests within `ms` of it are one more
   * call at the end of that time, so a slider step answers without waiting and a drag's burst of
   * steps is a call per `ms` with its last step last.
   */
  throttle(ms: number, fn: () => void): () => void;
  /** Cancels every job and clears every timer; slots and timers then start nothing. */
  dispose(): void;
}

export function createJobs(): Jobs {
  const stops: (() => void)[] = [];
  let disposed = false;

  return {
    slot<T>(read: () => JobState<T>, write: (state: JobState<T>) => void): JobSlot<T> {
      let job: Job<T> | null = null;
      let byUser = false;
      const drop = () => {
        const j = job;
        job = null;
        j?.cancel();
      };
      const revert = (last: Shown<T> | null) => write(last ? { status: 'done', ...last } : IDLE);
      stops.push(drop);

      return {
        start(key, begin, initial) {
          if (disposed) return Promise.resolve(DROPPED);
          drop();
          byUser = false;
          const last = shownOf(read());
          let mine: Job<T>;
          try {
            mine = begin((progress) => {
              if (job === mine) write({ status: 'running', key, progress, last });
            });
          } catch (e) {
            const message = errorMessage(e);
            write({ status: 'failed', key, message, last });
            return Promise.resolve({ status: 'failed', message });
          }
          job = mine;
          write({ status: 'running', key, progress: initial, last });
          return mine.result.then(
            (value): Outcome<T> => {
              if (job !== mine) return DROPPED;
              job = null;
              write({ status: 'done', key, value });
              return { status: 'done', value };
            },
            (e: unknown): Outcome<T> => {
              if (job !== mine) return DROPPED;
              job = null;
              if (!isAbortError(e)) {
                const message = errorMessage(e);
                write({ status: 'failed', key, message, last });
                return { status: 'failed', message };
              }
              if (byUser) {
                write({ status: 'cancelled', key, last });
                return { status: 'cancelled' };
              }
              // Stopped by the worker (another model opened, a lost device): as if it never ran.
              revert(last);
              return DROPPED;
            },
          );
        },
        cancel() {
          if (!job) return;
          byUser = true;
          job.cancel();
        },
        stop() {
          const s = read();
          if (!job) return;
          drop();
          if (s.status === 'running') revert(s.last);
        },
        reset(state = IDLE) {
          drop();
          write(state);
        },
      };
    },

    throttle(ms, fn) {
      let timer: ReturnType<typeof setTimeout> | null = null;
      let pending = false;
      const clear = () => {
        if (timer) clearTimeout(timer);
        timer = null;
        pending = false;
      };
      stops.push(clear);
      const call = () => {
        fn();
        timer = setTimeout(() => {
          timer = null;
          if (!pending) return;
          pending = false;
          call();
        }, ms);
      };
      return () => {
        if (disposed) return;
        if (timer) pending = true;
        else call();
      };
    },

    dispose() {
      disposed = true;
      for (const stop of stops) stop();
    },
  };
}
