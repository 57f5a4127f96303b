// For the store's unit tests: worker jobs the test settles by hand (cancelled as a real one is), an
// in-memory storage, and stores that are disposed after each test so that no timer or job of one
// test runs into the next.
import { abortError, type Job } from '../workers/client';
import { createWorkbenchStore, type StoreDeps } from './store';

export function manualJob<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const result = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  result.catch(() => {});
  let cancelled = false;
  const job: Job<T> = {
    id: Math.random(),
    result,
    cancel: () => {
      cancelled = true;
      reject(abortError());
    },
  };
  return { job, resolve, reject, cancelled: () => cancelled };
}

export function memoryStorage() {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
    m,
  };
}

const made: ReturnType<typeof createWorkbenchStore>[] = [];

/** A store on the given fakes (no storage, no catalog unless given); disposed by disposeTestStores. */
export function testStore(deps: Partial<StoreDeps> & Pick<StoreDeps, 'engine'>) {
  const store = createWorkbenchStore({ storage: null, loadCatalog: async () => [], ...deps });
  made.push(store);
  return store;
}

/** Every store a test made, disposed: call it in afterEach. */
export function disposeTestStores() {
  for (const s of made.splice(0)) s.getState().dispose();
}

/** Lets settled jobs' handlers run. */
export const flush = () => new Promise((r) => setTimeout(r, 0));
