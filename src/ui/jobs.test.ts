// The one way the store follows a worker job: progress, the newest wins, a user's Cancel shows, a
// stop by the worker leaves no trace, and dispose leaves nothing running.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { abortError, type Progress } from '../workers/client';
import { createJobs, IDLE, type JobState, shownOf } from './jobs';
import { flush, manualJob } from './test-store';

function slotWithState<T>() {
  const jobs = createJobs();
  let state: JobState<T> = IDLE;
  const writes: JobState<T>[] = [];
  const slot = jobs.slot(
    () => state,
    (s) => {
      state = s;
      writes.push(s);
    },
  );
  return { jobs, slot, state: () => state, writes };
}

const starting: Progress = { label: 'Starting', fraction: null };

afterEach(() => {
  vi.useRealTimers();
});

describe('job slot', () => {
  it('runs with progress, then holds the value', async () => {
    const { slot, state } = slotWithState<number>();
    const j = manualJob<number>();
    let report!: (p: Progress) => void;
    const outcome = slot.start(
      'a',
      (onProgress) => {
        report = onProgress;
        return j.job;
      },
      starting,
    );
    expect(state()).toEqual({ status: 'running', key: 'a', progress: starting, last: null });
    report({ label: 'Half', fraction: 0.5 });
    expect(state()).toMatchObject({ status: 'running', progress: { fraction: 0.5 } });
    j.resolve(7);
    expect(await outcome).toEqual({ status: 'done', value: 7 });
    expect(state()).toEqual({ status: 'done', key: 'a', value: 7 });
  });

  it('keeps only the newest: the older is cancelled, its answer and progress dropped, no error left', async () => {
    const { slot, state, writes } = slotWithState<string>();
    const [a, b] = [manualJob<string>(), manualJob<string>()];
    let reportA!: (p: Progress) => void;
    const first = slot.start(
      'a',
      (p) => {
        reportA = p;
        return a.job;
      },
      starting,
    );
    const second = slot.start('b', () => b.job, starting);
    expect(a.cancelled()).toBe(true);
    const before = writes.length;
    reportA({ label: 'late', fraction: 1 });
    expect(writes).toHaveLength(before);
    expect(await first).toEqual({ status: 'dropped' });
    expect(state()).toMatchObject({ status: 'running', key: 'b' });
    b.resolve('B');
    expect(await second).toEqual({ status: 'done', value: 'B' });
  });

  it('a failure keeps its message and the answer shown before it', async () => {
    const { slot, state } = slotWithState<string>();
    const a = manualJob<string>();
    void slot.start('a', () => a.job, starting);
    a.resolve('A');
    await flush();
    const b = manualJob<string>();
    const outcome = slot.start('b', () => b.job, starting);
    expect(shownOf(state())).toEqual({ key: 'a', value: 'A' });
    b.reject(new Error('no such layer'));
    expect(await outcome).toEqual({ status: 'failed', message: 'no such layer' });
    expect(state()).toEqual({ status: 'failed', key: 'b', message: 'no such layer', last: { key: 'a', value: 'A' } });
  });

  it('the user’s Cancel ends as cancelled; the worker’s abort goes back to what was shown', async () => {
    const { slot, state } = slotWithState<string>();
    const a = manualJob<string>();
    const outcome = slot.start('a', () => a.job, starting);
    slot.cancel();
    expect(await outcome).toEqual({ status: 'cancelled' });
    expect(state()).toEqual({ status: 'cancelled', key: 'a', last: null });

    const b = manualJob<string>();
    void slot.start('b', () => b.job, starting);
    b.resolve('B');
    await flush();
    const c = manualJob<string>();
    const stopped = slot.start('c', () => c.job, starting);
    c.reject(abortError());
    expect(await stopped).toEqual({ status: 'dropped' });
    expect(state()).toEqual({ status: 'done', key: 'b', value: 'B' });
  });

  it('a call that throws before it starts is a failure, not an exception', async () => {
    const { slot, state } = slotWithState<string>();
    const outcome = slot.start(
      'a',
      () => {
        throw new Error('engine.prune is not a function');
      },
      starting,
    );
    expect(await outcome).toEqual({ status: 'failed', message: 'engine.prune is not a function' });
    expect(state().status).toBe('failed');
  });

  it('stop goes back to what was shown; reset puts the given state', async () => {
    const { slot, state } = slotWithState<string>();
    const a = manualJob<string>();
    void slot.start('a', () => a.job, starting);
    a.resolve('A');
    await flush();
    const b = manualJob<string>();
    void slot.start('b', () => b.job, starting);
    slot.stop();
    expect(b.cancelled()).toBe(true);
    expect(state()).toEqual({ status: 'done', key: 'a', value: 'A' });
    slot.reset();
    expect(state()).toEqual(IDLE);
  });
});

describe('dispose', () => {
  it('cancels every job and clears every timer; afterwards nothing starts', async () => {
    vi.useFakeTimers();
    const { jobs, slot, state } = slotWithState<string>();
    const a = manualJob<string>();
    const outcome = slot.start('a', () => a.job, starting);
    let fired = 0;
    const soon = jobs.throttle(120, () => fired++);
    soon();
    soon();
    expect(fired).toBe(1);
    jobs.dispose();
    expect(a.cancelled()).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    vi.runAllTimers();
    expect(fired).toBe(1);
    soon();
    expect(vi.getTimerCount()).toBe(0);
    let begun = false;
    expect(
      await slot.start(
        'b',
        () => {
          begun = true;
          return manualJob<string>().job;
        },
        starting,
      ),
    ).toEqual({ status: 'dropped' });
    expect(begun).toBe(false);
    vi.useRealTimers();
    expect(await outcome).toEqual({ status: 'dropped' });
    expect(state().status).toBe('running');
  });
});
