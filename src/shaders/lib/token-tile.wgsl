// The token tiles of the n-token products (csr-matmul.wgsl, nm24-matmul.wgsl; library, no entry
// point): a workgroup takes WG / TOKEN_LANES rows and a tile of TOKEN_LANES · TOKENS_PER_THREAD
// tokens, TOKEN_LANES invocations per row, each summing TOKENS_PER_THREAD tokens (lane,
// lane + TOKEN_LANES, ...) in registers. The grid is (row groups × tiles), 2-D past one dimension's
// limit.

override TOKEN_LANES: u32 = 64u;      // a power of two in [8, WG]
override TOKENS_PER_THREAD: u32 = 4u; // in [1, MAX_TOKENS_PER_THREAD]
const MAX_TOKENS_PER_THREAD: u32 = 4u;
const MAX_ROWS: u32 = WG / 8u;        // rows per workgroup at the smallest TOKEN_LANES
const NO_TILE: u32 = 0xffffffffu;

// The workgroup's linear index, or NO_TILE for a spare workgroup of a 2-D grid. Kept apart from
// tokenTile: it depends on the workgroup alone, so returning on it keeps later barriers uniform.
fn tileIndex(wid: vec3u, nwg: vec3u, rows: u32, tiles: u32) -> u32 {
  let rowsPerWg = WG / TOKEN_LANES;
  let wg = linearWorkgroup(wid, nwg);
  return select(NO_TILE, wg, wg < (rows + rowsPerWg - 1u) / rowsPerWg * tiles);
}

struct TokenTile {
  localRow: u32,
  lane: u32,
  row: u32, // ≥ rows in a last, partial row group: such a row joins the barriers and writes nothing
  firstToken: u32,
  // A lane past the last token sums token n − 1 (a valid address, no branch) and writes nothing.
  token: array<u32, MAX_TOKENS_PER_THREAD>,
}

fn tokenTile(lid: u32, wg: u32, n: u32, tiles: u32) -> TokenTile {
  var t: TokenTile;
  t.localRow = lid / TOKEN_LANES;
  t.lane = lid % TOKEN_LANES;
  t.row = wg / tiles * (WG / TOKEN_LANES) + t.localRow;
  t.firstToken = wg % tiles * TOKEN_LANES * TOKENS_PER_THREAD + t.lane;
  for (var j = 0u; j < TOKENS_PER_THREAD; j++) { t.token[j] = min(t.firstToken + j * TOKEN_LANES, n - 1u); }
  return t;
}
