// For the store's unit tests: a worker Job the test settles by hand, cancelled as a real one is.
import { abortError, type Job } from '../workers/client';

export function manualJob<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const result = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  result.catch(() => {});
  const job: Job<T> = { id: Math.random(), result, cancel: () => reject(abortError()) };
  return { job, resolve, reject };
}
