// y = W x for one token with W in CSR form (engine/gpu/csr.ts): a lane group of 32 invocations per
// row, 8 rows per workgroup (lib/lane-sum.wgsl). A row's lanes read its column indices and values
// in consecutive 32-entry runs (coalesced), gather x, and sum in workgroup memory. A row with no
// entries writes 0. Rows beyond one dispatch's limit use a 2-D grid.

struct Params {
  rows: u32,
}

@group(0) @binding(0) var<storage, read> rowPtr: array<u32>;
@group(0) @binding(1) var<storage, read> colIdx: array<u32>;
@group(0) @binding(2) var<storage, read> values: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let row = linearWorkgroup(wid, nwg) * ROWS_PER_WG + lid / LANES;
  let lane = lid % LANES;
  var sum = 0.0;
  if (row < params.rows) {
    let end = rowPtr[row + 1u];
    for (var k = rowPtr[row] + lane; k < end; k += LANES) {
      sum += values[k] * x[colIdx[k]];
    }
  }
  sum = laneGroupSum(lid, sum);
  if (row < params.rows && lane == 0u) { y[row] = sum; }
}
