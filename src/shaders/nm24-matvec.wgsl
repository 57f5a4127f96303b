// y = W x for one token with W 2:4-compressed (engine/gpu/nm24.ts; lib/nm24.wgsl decodes a group).
// LANES invocations per row, WG / LANES rows per workgroup: a row's lanes take its groups lane,
// lane + LANES, ..., so each step of a lane group reads one contiguous run of value pairs (8 bytes
// a group) and index words (8 groups a word), and gathers x nearby; the lanes' sums then meet in a
// tree in workgroup memory. LANES grows with the row (nm24-kernel.ts) so that a few wide rows still
// spread over enough workgroups to keep a large GPU's memory busy. A row whose groups are all empty
// writes 0. Rows beyond one dispatch's limit use a 2-D grid.

override LANES: u32 = 32u; // a power of two in [1, WG]

struct Params {
  rows: u32,
  groups: u32, // per row: ceil(cols / 4)
}

@group(0) @binding(0) var<storage, read> values: array<vec2f>;
@group(0) @binding(1) var<storage, read> indices: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let row = linearWorkgroup(wid, nwg) * (WG / LANES) + lid / LANES;
  let lane = lid % LANES;
  var sum = 0.0;
  if (row < params.rows) {
    let first = row * params.groups;
    for (var g = lane; g < params.groups; g += LANES) {
      let q = first + g;
      let v = values[q];
      let group = nm24Group(indices[q / 8u], q, g);
      // Branch-free: read both columns, keep only the stored entries' products.
      sum += select(0.0, v.x * x[group.cols.x], group.kept.x) + select(0.0, v.y * x[group.cols.y], group.kept.y);
    }
  }
  partial[lid] = sum;
  for (var half = LANES / 2u; half > 0u; half = half >> 1u) {
    workgroupBarrier();
    if (lane < half) { partial[lid] += partial[lid + half]; }
  }
  if (row < params.rows && lane == 0u) { y[row] = partial[lid]; }
}
