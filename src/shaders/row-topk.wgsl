// Per-row top-k mask (Wanda's comparison group): one workgroup per row of a row-major
// [rows, cols] score matrix keeps the row's `keep` best entries — ties by position, NaN last — and
// sets their bits in a flat bitmask (bit r·cols + c). Rows need not start on a word: a word shared
// by two rows is OR-ed atomically, so the mask must be zeroed first. Rows beyond one dispatch's
// limit use a 2-D grid.

struct Params {
  rows: u32,
  cols: u32,
  keep: u32,
}

@group(0) @binding(0) var<storage, read> values: array<u32>; // f32 bits
@group(0) @binding(1) var<storage, read_write> mask: array<atomic<u32>>;
@group(0) @binding(2) var<uniform> params: Params;

fn rowKey(rowStart: u32, col: u32) -> u32 {
  return orderKey(values[rowStart + col]);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let row = linearWorkgroup(wid, nwg);
  if (row >= params.rows) { return; }
  let rowStart = row * params.cols;
  let rowEnd = rowStart + params.cols;
  let t = rowThreshold(lid, rowStart, params.cols, params.keep);
  // One invocation per mask word overlapping the row, 256 words at a time, in order.
  let firstWord = rowStart / 32u;
  let words = (rowEnd - 1u) / 32u + 1u - firstWord;
  var tiesBefore = 0u;
  for (var base = 0u; base < words; base += WG) {
    let w = firstWord + base + lid;
    let first = max(w * 32u, rowStart);
    let last = select(min(w * 32u + 32u, rowEnd), first, base + lid >= words);
    let s = exclusiveScan(lid, countKey(first, last, t.key));
    var rank = tiesBefore + s.before;
    var word = 0u;
    for (var i = first; i < last; i++) {
      let key = orderKey(values[i]);
      var keep = key > t.key;
      if (key == t.key) {
        keep = rank < t.tiesKept;
        rank++;
      }
      if (keep) { word |= 1u << (i % 32u); }
    }
    if (first < last) {
      if (first == w * 32u && last == w * 32u + 32u) {
        atomicStore(&mask[w], word); // the row owns the whole word
      } else if (word != 0u) {
        atomicOr(&mask[w], word);
      }
    }
    tiesBefore += s.total;
  }
}
