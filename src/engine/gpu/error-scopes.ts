// WebGPU reports validation and out-of-memory errors only through error scopes (else to the
// console): a result read back after one is wrong, not an error. This makes them errors.

/** Runs f and throws the out-of-memory or validation errors it caused (f's own error first). */
export async function throwingGpuErrors<T>(device: GPUDevice, f: () => Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  const result = await f().then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  const errors = [await device.popErrorScope(), await device.popErrorScope()].filter((e) => e !== null);
  if ('error' in result) throw result.error;
  if (errors.length > 0) throw new Error(errors.map((e) => e.message).join('; '));
  return result.value;
}
