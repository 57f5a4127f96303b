// Global selection, mask pass over one tensor: bit i of the mask is set when element i is kept —
// its key is above the threshold, or equal to it and among the first `remaining` such keys by
// position across all tensors. Each invocation writes one 32-element word.

@group(0) @binding(0) var<storage, read> values: array<u32>;
@group(0) @binding(1) var<storage, read> state: Selection;
@group(0) @binding(2) var<storage, read> blockTies: array<u32>;
@group(0) @binding(3) var<storage, read_write> mask: array<u32>;
@group(0) @binding(4) var<uniform> part: Part;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let block = linearWorkgroup(wid, nwg);
  let s = state;
  if (block * BLOCK >= part.n) { return; }
  let first = block * BLOCK + lid * 32u;
  let last = min(first + 32u, part.n);
  let split = tiesSplit(s);
  var ties = 0u;
  if (split) { ties = countKey(first, last, s.prefix); }
  let sum = exclusiveScan(lid, ties);
  var rank = 0u;
  if (split) { rank = blockTies[part.firstBlock + block] + sum.before; }
  var word = 0u;
  for (var i = first; i < last; i++) {
    let key = orderKey(values[i]);
    var keep = key > s.prefix;
    if (key == s.prefix) {
      keep = select(s.remaining != 0u, rank < s.remaining, split); // unsplit: all or none
      rank++;
    }
    if (keep) { word |= 1u << (i - first); }
  }
  if (first < part.n) { mask[first / 32u] = word; }
}
