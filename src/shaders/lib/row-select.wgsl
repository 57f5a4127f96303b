// One workgroup selects within one row (library, no entry point; needs keys.wgsl, workgroup.wgsl and
// radix.wgsl). The kernel defines `fn rowKey(rowStart: u32, col: u32) -> u32`, the order key of
// an entry, so that a kernel can rank some entries specially (a protected token).

struct Threshold {
  key: u32,      // the keep-th largest key of the row (NO_KEY when keep is 0)
  tiesKept: u32, // how many entries equal to `key` are kept: the first ones by position
}

// Call from uniform control flow with uniform arguments; 0 ≤ keep ≤ len.
fn rowThreshold(lid: u32, rowStart: u32, len: u32, keep: u32) -> Threshold {
  if (keep == 0u) { return Threshold(NO_KEY, 0u); }
  var prefix = 0u;
  var prefixMask = 0u;
  var remaining = keep;
  for (var ix = 0u; ix < 3u; ix++) {
    clearBins(lid);
    workgroupBarrier();
    for (var c = lid; c < len; c += WG) {
      let key = rowKey(rowStart, c);
      if ((key & prefixMask) == prefix) { atomicAdd(&bins[digitOf(key, ix)], 1u); }
    }
    workgroupBarrier();
    let p = pickDigit(lid, remaining);
    prefix |= p.digit << digitShift(ix);
    prefixMask |= digitMask(ix) << digitShift(ix);
    remaining -= p.above;
  }
  return Threshold(prefix, remaining);
}
