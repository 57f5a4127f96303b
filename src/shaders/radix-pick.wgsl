// Global selection, pick pass (one workgroup): decides the next digit of the threshold from the
// global histogram, updates the selection state and clears the histogram for the next pass.

@group(0) @binding(0) var<storage, read_write> state: Selection;
@group(0) @binding(1) var<storage, read_write> hist: array<u32, 2048>;

var<workgroup> remainingShared: u32;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  for (var b = lid; b < BINS; b += WG) {
    atomicStore(&bins[b], hist[b]);
    hist[b] = 0u;
  }
  if (lid == 0u) { remainingShared = state.remaining; }
  let remaining = workgroupUniformLoad(&remainingShared); // also a barrier for `bins`
  if (remaining == 0u) {
    // Keep nothing (more): no key reaches NO_KEY.
    if (lid == 0u) {
      state.prefix = NO_KEY;
      state.prefixMask = NO_KEY;
      state.ties = 0u;
      state.digitIx += 1u;
    }
    return;
  }
  let p = pickDigit(lid, remaining);
  if (lid == 0u) {
    let ix = state.digitIx;
    state.prefix |= p.digit << digitShift(ix);
    state.prefixMask |= digitMask(ix) << digitShift(ix);
    state.above += p.above;
    state.remaining = remaining - p.above;
    state.ties = p.count;
    state.digitIx = ix + 1u;
  }
}
