// Global selection, histogram pass over one tensor: counts the next digit of every key that matches
// the decided prefix, in workgroup memory first, then adds the non-empty bins to the global
// histogram. One dispatch per tensor and digit; the dispatch may be 2-D (see dispatch.ts).

@group(0) @binding(0) var<storage, read> values: array<u32>; // f32 bits
@group(0) @binding(1) var<storage, read> state: Selection;
@group(0) @binding(2) var<storage, read_write> hist: array<atomic<u32>, 2048>;
@group(0) @binding(3) var<uniform> part: Part;

const ITEMS: u32 = 64u; // elements per invocation: fewer workgroups, fewer global atomics

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let start = linearWorkgroup(wid, nwg) * WG * ITEMS;
  if (start >= part.n) { return; }
  clearBins(lid);
  workgroupBarrier();
  let ix = state.digitIx;
  let prefix = state.prefix;
  let prefixMask = state.prefixMask;
  for (var j = 0u; j < ITEMS; j++) {
    let i = start + j * WG + lid; // consecutive invocations read consecutive words
    if (i < part.n) {
      let key = orderKey(values[i]);
      if ((key & prefixMask) == prefix) { atomicAdd(&bins[digitOf(key, ix)], 1u); }
    }
  }
  workgroupBarrier();
  for (var b = lid; b < BINS; b += WG) {
    let c = atomicLoad(&bins[b]);
    if (c != 0u) { atomicAdd(&hist[b], c); }
  }
}
