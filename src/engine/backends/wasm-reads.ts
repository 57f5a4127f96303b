// The WASM backend's async read() resolves in a microtask, so a job that awaits tensor.data() once
// per step never lets its thread's event loop run: in Node a Ctrl-C handler waits for the whole job;
// in the page's worker a new request (the slider's next prune, a cancel) is not even received until
// the running job ends. Reading after one task of the event loop lets them through once per read,
// at the cost of microseconds.
import * as tf from '@tensorflow/tfjs';

let yielding = false;

/** Makes every read of the current (WASM) backend wait for `nextTask` first. */
export function yieldOnRead(nextTask: () => Promise<void>): void {
  if (yielding) return;
  const backend = tf.backend() as unknown as { read(id: object): Promise<unknown>; readSync(id: object): unknown };
  const readSync = backend.readSync.bind(backend);
  backend.read = async (id) => {
    await nextTask();
    return readSync(id);
  };
  yielding = true;
}
