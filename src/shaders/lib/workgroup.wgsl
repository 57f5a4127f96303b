// Workgroup helpers (library, no entry point) for 256-invocation workgroups: the linear index of a
// workgroup in a 2-D grid, and prefix sums (call those from uniform control flow: every invocation
// of the workgroup must call them, since they synchronise).

const WG: u32 = 256u;

// A dispatch past the per-dimension limit is 2-D (engine/gpu/dispatch.ts): x + y · width.
fn linearWorkgroup(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x;
}

var<workgroup> scanBuf: array<u32, 256>;

struct Scan {
  before: u32, // sum of the values of the invocations with a lower index
  total: u32,  // sum over the whole workgroup
}

fn exclusiveScan(lid: u32, v: u32) -> Scan {
  scanBuf[lid] = v;
  workgroupBarrier();
  // Hillis–Steele: 8 steps for 256 values.
  for (var off = 1u; off < WG; off = off << 1u) {
    var t = 0u;
    if (lid >= off) { t = scanBuf[lid - off]; }
    workgroupBarrier();
    scanBuf[lid] = scanBuf[lid] + t;
    workgroupBarrier();
  }
  let result = Scan(scanBuf[lid] - v, scanBuf[WG - 1u]);
  workgroupBarrier(); // the next call overwrites scanBuf
  return result;
}
