// N:M mask: along each row of a row-major [rows, cols] score matrix, every group of M consecutive
// entries keeps its N best (ties by position, NaN last); a last, shorter group of length L keeps
// round(N·L/M) — the rule of pruning/nm.ts. One invocation writes one 32-element word of the flat
// bitmask; an entry's rank is the number of entries of its group that beat it.

struct Params {
  rows: u32,
  cols: u32,
  n: u32,
  m: u32,
}

@group(0) @binding(0) var<storage, read> values: array<u32>; // f32 bits
@group(0) @binding(1) var<storage, read_write> mask: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let w = gid.x + gid.y * nwg.x * 256u;
  let total = params.rows * params.cols;
  let first = w * 32u;
  if (first >= total) { return; }
  let last = min(first + 32u, total);
  var word = 0u;
  for (var i = first; i < last; i++) {
    let col = i % params.cols;
    let groupCol = col - col % params.m;
    let len = min(params.m, params.cols - groupCol);
    // round(N·L/M), halves up, as Math.round.
    let keep = select((2u * params.n * len + params.m) / (2u * params.m), params.n, len == params.m);
    let groupStart = i - (col - groupCol);
    let key = orderKey(values[i]);
    var rank = 0u;
    for (var j = groupStart; j < groupStart + len; j++) {
      let other = orderKey(values[j]);
      if (other > key || (other == key && j < i)) { rank++; }
    }
    if (rank < keep) { word |= 1u << (i - first); }
  }
  mask[w] = word;
}
