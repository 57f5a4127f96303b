// y = W x for one token with W dense, [rows, cols] row-major, each row padded with zeros to a
// multiple of 4 columns (engine/gpu/dense-kernel.ts) so that every weight load is a vec4 whatever
// cols is: the kernel is bound by reading W once. A lane group of 32 invocations per row, 8 rows
// per workgroup (lib/lane-sum.wgsl): a row's lanes read consecutive vec4s (512 bytes at a time),
// and sum in workgroup memory. Rows beyond one dispatch's limit use a 2-D grid.

struct Params {
  rows: u32,
  cols: u32,
  rowVec4s: u32, // vec4s per padded row: ceil(cols / 4)
}

@group(0) @binding(0) var<storage, read> w: array<vec4f>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// x[c], or 0 past the end: a padding column then adds 0 · 0, never 0 · (whatever lies beyond x).
fn xAt(c: u32) -> f32 {
  return select(0.0, x[min(c, params.cols - 1u)], c < params.cols);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let row = linearWorkgroup(wid, nwg) * ROWS_PER_WG + lid / LANES;
  let lane = lid % LANES;
  var sum = 0.0;
  if (row < params.rows) {
    let first = row * params.rowVec4s;
    for (var i = lane; i < params.rowVec4s; i += LANES) {
      let c = 4u * i;
      sum += dot(w[first + i], vec4f(xAt(c), xAt(c + 1u), xAt(c + 2u), xAt(c + 3u)));
    }
  }
  sum = laneGroupSum(lid, sum);
  if (row < params.rows && lane == 0u) { y[row] = sum; }
}
