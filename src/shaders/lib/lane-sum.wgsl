// Lane groups (library, no entry point; needs workgroup.wgsl): a 256-invocation workgroup as
// ROWS_PER_WG groups of LANES invocations, one output row per group, and the sum of a group's
// values. Call laneGroupSum from uniform control flow (it synchronises the workgroup).

const LANES: u32 = 32u;
const ROWS_PER_WG: u32 = WG / LANES;

var<workgroup> laneSums: array<f32, 256>;

// The sum of `v` over the invocation's lane group (a tree: its order differs from a serial sum).
fn laneGroupSum(lid: u32, v: f32) -> f32 {
  laneSums[lid] = v;
  for (var s = LANES / 2u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lid % LANES < s) { laneSums[lid] += laneSums[lid + s]; }
  }
  workgroupBarrier();
  return laneSums[lid - lid % LANES];
}
