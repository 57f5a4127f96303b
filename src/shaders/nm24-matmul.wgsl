// Y = X · Wᵀ for n tokens with W 2:4-compressed (engine/gpu/nm24.ts; lib/nm24.wgsl decodes a
// group), X given as Xᵀ [cols, n] so that invocations on consecutive tokens read consecutive
// addresses. A workgroup takes WG / TOKEN_LANES rows and a tile of TOKEN_LANES · TOKENS_PER_THREAD
// tokens: TOKEN_LANES invocations per row, each summing TOKENS_PER_THREAD tokens (lane,
// lane + TOKEN_LANES, ...) in registers. A row's groups pass through workgroup memory in chunks,
// loaded once (coalesced) and decoded to (values, x offsets) that every lane of the row then reads,
// so each stored weight costs one gather of x per token. An empty slot's offset is EMPTY and its
// product is skipped by a branch all lanes of the row take alike. Writes y[t · rows + r]; a row of
// empty groups writes 0. Workgroups beyond one dispatch's limit use a 2-D grid.

const STAGE: u32 = 2u;          // groups each invocation stages per chunk
const EMPTY: u32 = 0xffffffffu; // no offset: real ones are below cols · n < 2³² − 1

struct Params {
  rows: u32,
  n: u32,
  groups: u32, // per row: ceil(cols / 4)
  tiles: u32,  // token tiles: ceil(n / (TOKEN_LANES · TOKENS_PER_THREAD))
}

@group(0) @binding(0) var<storage, read> values: array<vec2f>;
@group(0) @binding(1) var<storage, read> indices: array<u32>;
@group(0) @binding(2) var<storage, read> xT: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

// Each row's chunk of decoded groups: (value bits of slot 0 and 1, x offsets col · n of slot 0 and
// 1). Rows lie one entry more than a chunk apart, so rows sharing a subgroup read different banks.
var<workgroup> staged: array<vec4u, WG * STAGE + MAX_ROWS>;

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
  let rowOk = row < params.rows;

  var token = tile.token;
  var acc: array<f32, MAX_TOKENS_PER_THREAD>;
  let chunkLen = STAGE * TOKEN_LANES;
  let base = localRow * (chunkLen + 1u);
  for (var first = 0u; first < params.groups; first += chunkLen) {
    for (var s = 0u; s < STAGE; s++) {
      let i = s * TOKEN_LANES + lane;
      let g = first + i;
      if (rowOk && g < params.groups) {
        let q = row * params.groups + g;
        let group = nm24Group(indices[q / 8u], q, g);
        staged[base + i] = vec4u(bitcast<vec2u>(values[q]), select(vec2u(EMPTY), group.cols * params.n, group.kept));
      }
    }
    workgroupBarrier();
    let count = select(0u, min(chunkLen, params.groups - first), rowOk);
    for (var i = 0u; i < count; i++) {
      let e = staged[base + i];
      if (e.z != EMPTY) {
        let v = bitcast<f32>(e.x);
        for (var j = 0u; j < TOKENS_PER_THREAD; j++) { acc[j] += v * xT[e.z + token[j]]; }
      }
      if (e.w != EMPTY) {
        let v = bitcast<f32>(e.y);
        for (var j = 0u; j < TOKENS_PER_THREAD; j++) { acc[j] += v * xT[e.w + token[j]]; }
      }
    }
    workgroupBarrier(); // the next chunk overwrites the staged groups
  }

  if (!rowOk) { return; }
  for (var j = 0u; j < TOKENS_PER_THREAD; j++) {
    let t = firstToken + j * TOKEN_LANES;
    if (t < params.n) { y[t * params.rows + row] = acc[j]; }
  }
}
