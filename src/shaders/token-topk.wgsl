// Per-query token top-k: one workgroup per row of a row-major [rows, cols] score matrix writes the
// columns of the row's `keep` best scores in ascending column order (out[row·keep + j]). Column
// `protect` of every row ranks above any score (CLS, or a causal LM's last token); 0xffffffff
// protects none. Ties by position, NaN last — the order of selectTokens in model/tokens.ts.

struct Params {
  rows: u32,
  cols: u32,
  keep: u32,
  protect: u32,
}

@group(0) @binding(0) var<storage, read> values: array<u32>; // f32 bits
@group(0) @binding(1) var<storage, read_write> kept: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

fn rowKey(rowStart: u32, col: u32) -> u32 {
  return select(orderKey(values[rowStart + col]), NO_KEY, col == params.protect);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let row = linearWorkgroup(wid, nwg);
  if (row >= params.rows) { return; }
  let rowStart = row * params.cols;
  let t = rowThreshold(lid, rowStart, params.cols, params.keep);
  var tiesBefore = 0u;
  var keptBefore = 0u;
  // One invocation per column, 256 columns at a time, in order.
  for (var base = 0u; base < params.cols; base += WG) {
    let c = base + lid;
    var key = 0u;
    if (c < params.cols) { key = rowKey(rowStart, c); }
    let isTie = c < params.cols && key == t.key;
    let ties = exclusiveScan(lid, u32(isTie));
    let keep = c < params.cols && (key > t.key || (isTie && tiesBefore + ties.before < t.tiesKept));
    let slots = exclusiveScan(lid, u32(keep));
    if (keep) { kept[row * params.keep + keptBefore + slots.before] = c; }
    tiesBefore += ties.total;
    keptBefore += slots.total;
  }
}
