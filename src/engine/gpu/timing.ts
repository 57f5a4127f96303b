// GPU timing as the forward pass and the slider see it: ops submitted back to back, the GPU waited
// for once per batch of them. Waiting after every op would time the CPU↔GPU round trip (tens of
// µs to ms) rather than the op, which for a matrix-vector product is a few µs.

export interface GpuTimingOptions {
  /** Ops per batch; the batch's time is divided by it. */
  perBatch?: number;
  /** Batches timed; the median is reported. */
  batches?: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median ms per call of `op` (one warm-up call first, which also compiles pipelines). */
export async function timeGpu(
  op: () => void,
  idle: () => Promise<void>,
  options: GpuTimingOptions = {},
): Promise<number> {
  const perBatch = options.perBatch ?? 5;
  const batches = options.batches ?? 3;
  op();
  await idle();
  const ms: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let r = 0; r < perBatch; r++) op();
    await idle();
    ms.push((performance.now() - t0) / perBatch);
  }
  return median(ms);
}
