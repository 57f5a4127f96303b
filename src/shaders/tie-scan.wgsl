// Global selection, tie scan (one workgroup): turns the per-block tie counts of all tensors, in
// order, into exclusive prefix sums — the number of ties before each block. Skipped unless the
// ties are split.

@group(0) @binding(0) var<storage, read> state: Selection;
@group(0) @binding(1) var<storage, read_write> blockTies: array<u32>;
@group(0) @binding(2) var<uniform> blocks: u32;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  if (!tiesSplit(state)) { return; }
  var carry = 0u;
  for (var base = 0u; base < blocks; base += WG) {
    let i = base + lid;
    var v = 0u;
    if (i < blocks) { v = blockTies[i]; }
    let s = exclusiveScan(lid, v);
    if (i < blocks) { blockTies[i] = carry + s.before; }
    carry += s.total;
  }
}
