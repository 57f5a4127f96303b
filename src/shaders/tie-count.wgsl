// Global selection, tie count: how many keys equal the threshold in each 8192-element block, so
// that the ties kept can be the first ones by position across all tensors. Skipped (nothing
// written) unless the ties are split.

@group(0) @binding(0) var<storage, read> values: array<u32>;
@group(0) @binding(1) var<storage, read> state: Selection;
@group(0) @binding(2) var<storage, read_write> blockTies: array<u32>;
@group(0) @binding(3) var<uniform> part: Part;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let block = linearWorkgroup(wid, nwg);
  let s = state;
  if (block * BLOCK >= part.n || !tiesSplit(s)) { return; }
  let first = block * BLOCK + lid * 32u;
  let last = min(first + 32u, part.n);
  let sum = exclusiveScan(lid, countKey(first, last, s.prefix));
  if (lid == 0u) { blockTies[part.firstBlock + block] = sum.total; }
}
