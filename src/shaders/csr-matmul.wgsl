// Y = X · Wᵀ for n tokens with W in CSR form (engine/gpu/csr.ts), X given as Xᵀ [cols, n] so that
// invocations on consecutive tokens read consecutive addresses. A workgroup takes WG / TOKEN_LANES
// rows and a tile of TOKEN_LANES · TOKENS_PER_THREAD tokens (lib/token-tile.wgsl): TOKEN_LANES
// invocations per row, each summing TOKENS_PER_THREAD tokens in registers. The rows' entries
// pass through workgroup memory in chunks, loaded once (coalesced) and then read by every lane of
// the row, so each stored weight costs one gather of x per token. Writes y[t · rows + r]; a row
// with no entries writes 0. Workgroups beyond one dispatch's limit use a 2-D grid.

const STAGE: u32 = 4u;    // entries each invocation stages per chunk

struct Params {
  rows: u32,
  n: u32,
  tiles: u32, // token tiles: ceil(n / (TOKEN_LANES · TOKENS_PER_THREAD))
}

@group(0) @binding(0) var<storage, read> rowPtr: array<u32>;
@group(0) @binding(1) var<storage, read> colIdx: array<u32>;
@group(0) @binding(2) var<storage, read> values: array<f32>;
@group(0) @binding(3) var<storage, read> xT: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

var<workgroup> stagedCol: array<u32, WG * STAGE>; // each row's chunk: STAGE · TOKEN_LANES entries
var<workgroup> stagedVal: array<f32, WG * STAGE>;
var<workgroup> rowLen: array<u32, MAX_ROWS>;
var<workgroup> chunkCount: u32;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let wg = tileIndex(wid, nwg, params.rows, params.tiles);
  if (wg == NO_TILE) { return; }
  let tile = tokenTile(lid, wg, params.n, params.tiles);
  let localRow = tile.localRow;
  let lane = tile.lane;
  let row = tile.row;
  let firstToken = tile.firstToken;
  var start = 0u;
  var len = 0u;
  if (row < params.rows) {
    start = rowPtr[row];
    len = rowPtr[row + 1u] - start;
  }

  // Every row of the workgroup takes as many chunks as its longest one (barriers are uniform).
  let chunkLen = STAGE * TOKEN_LANES;
  if (lane == 0u) { rowLen[localRow] = len; }
  workgroupBarrier();
  if (lid == 0u) {
    var longest = 0u;
    for (var r = 0u; r < WG / TOKEN_LANES; r++) { longest = max(longest, rowLen[r]); }
    chunkCount = (longest + chunkLen - 1u) / chunkLen;
  }
  let chunks = workgroupUniformLoad(&chunkCount);

  var token = tile.token;
  var acc: array<f32, MAX_TOKENS_PER_THREAD>;
  let staged = localRow * chunkLen;
  for (var chunk = 0u; chunk < chunks; chunk++) {
    let first = chunk * chunkLen;
    for (var s = 0u; s < STAGE; s++) {
      let i = s * TOKEN_LANES + lane;
      if (first + i < len) {
        stagedCol[staged + i] = colIdx[start + first + i];
        stagedVal[staged + i] = values[start + first + i];
      }
    }
    workgroupBarrier();
    let count = min(chunkLen, len - min(first, len));
    for (var i = 0u; i < count; i++) {
      let xRow = stagedCol[staged + i] * params.n;
      let v = stagedVal[staged + i];
      for (var j = 0u; j < TOKENS_PER_THREAD; j++) { acc[j] += v * xT[xRow + token[j]]; }
    }
    workgroupBarrier(); // the next chunk overwrites the staged entries
  }

  if (row >= params.rows) { return; }
  for (var j = 0u; j < TOKENS_PER_THREAD; j++) {
    let t = firstToken + j * TOKEN_LANES;
    if (t < params.n) { y[t * params.rows + row] = acc[j]; }
  }
}
