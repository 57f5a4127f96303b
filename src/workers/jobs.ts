// Cancellable jobs inside the worker: AbortSignal cannot cross comlink, so callers name each job
// with an id and cancel it by that id.
import { abortError } from '../engine/abort';

export interface JobRecord {
  kind: string;
  controller: AbortController;
  done: Promise<unknown>;
}

/** Cancels remembered for jobs not started yet; the oldest are forgotten past this many. */
const EARLY_CANCELS = 256;

export class JobRegistry {
  private readonly jobs = new Map<number, JobRecord>();
  /**
   * Ids cancelled before they ran: a job can wait to start (a prune for the one before it to
   * stop), and the user's Cancel in that time must not be lost.
   */
  private readonly cancelledEarly = new Set<number>();
  private nextAnonymous = -1;

  /** Runs `fn` as job `id` (a fresh negative id when none is given), removing it when it settles. */
  run<T>(kind: string, id: number | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const jobId = id ?? this.nextAnonymous--;
    if (this.jobs.has(jobId)) return Promise.reject(new Error(`job ${jobId} is already running`));
    if (this.cancelledEarly.delete(jobId)) return Promise.reject(abortError());
    const controller = new AbortController();
    const done = (async () => fn(controller.signal))();
    const record: JobRecord = { kind, controller, done };
    this.jobs.set(jobId, record);
    const forget = () => {
      if (this.jobs.get(jobId) === record) this.jobs.delete(jobId);
    };
    done.then(forget, forget);
    return done;
  }

  /** Aborts job `id`, or, when it has not started, refuses it when it does; false when it was not running. */
  cancel(id: number): boolean {
    const job = this.jobs.get(id);
    if (!job) {
      this.cancelledEarly.add(id);
      if (this.cancelledEarly.size > EARLY_CANCELS)
        this.cancelledEarly.delete(this.cancelledEarly.values().next().value!);
      return false;
    }
    job.controller.abort();
    return true;
  }

  /** Aborts every running job of a kind and resolves once all of them have settled. */
  async cancelKind(kind: string): Promise<void> {
    const running = [...this.jobs.values()].filter((j) => j.kind === kind);
    for (const j of running) j.controller.abort();
    await Promise.allSettled(running.map((j) => j.done));
  }

  running(kind?: string): number {
    return [...this.jobs.values()].filter((j) => kind === undefined || j.kind === kind).length;
  }
}
