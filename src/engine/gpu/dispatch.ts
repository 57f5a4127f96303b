// Dispatch sizes. WebGPU caps each dimension of a dispatch (65535 workgroups by default), so a
// kernel that needs more workgroups gets a 2-D grid and computes its linear workgroup index as
// x + y · (workgroups in x), skipping indices past the end.

/** [x, y] workgroup counts covering `workgroups` with neither above `maxPerDimension`. */
export function grid(workgroups: number, maxPerDimension: number): [number, number] {
  if (!Number.isInteger(workgroups) || workgroups < 0) throw new Error(`grid: bad workgroup count ${workgroups}`);
  if (workgroups <= maxPerDimension) return [workgroups, 1];
  const y = Math.ceil(workgroups / maxPerDimension);
  if (y > maxPerDimension)
    throw new Error(`grid: ${workgroups} workgroups exceed ${maxPerDimension}² (one dispatch's limit)`);
  return [Math.ceil(workgroups / y), y];
}
