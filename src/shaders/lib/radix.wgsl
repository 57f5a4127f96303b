// Radix select over order keys (library, no entry point; needs keys.wgsl and workgroup.wgsl).
// The 32-bit key is decided in three digits from the top: bits 31..21, 20..10, 9..0 (11, 11 and
// 10 bits, histograms of 2048 bins — 8 KiB of workgroup memory). Each pass counts, among the keys
// that share the digits decided so far, how many fall in each bin of the next digit; the pick then
// takes the bin where the k-th largest lies. After three passes the prefix is the exact k-th
// largest key, with no sort.

const BINS: u32 = 2048u;
const BINS_PER_INVOCATION: u32 = 8u; // BINS / WG

var<workgroup> bins: array<atomic<u32>, 2048>;

fn digitShift(ix: u32) -> u32 {
  return select(select(0u, 10u, ix == 1u), 21u, ix == 0u);
}

fn digitMask(ix: u32) -> u32 {
  return select(0x7ffu, 0x3ffu, ix == 2u);
}

fn digitOf(key: u32, ix: u32) -> u32 {
  return (key >> digitShift(ix)) & digitMask(ix);
}

fn clearBins(lid: u32) {
  for (var b = lid; b < BINS; b += WG) { atomicStore(&bins[b], 0u); }
}

struct Pick {
  digit: u32, // the bin that holds the remaining-th largest key
  above: u32, // keys in higher bins (all of them kept)
  count: u32, // keys in that bin
}

var<workgroup> picked: Pick;

// Finds the bin of the `remaining`-th largest key counted in `bins` (1 ≤ remaining ≤ their sum).
// Invocation i owns bins BINS-1-8i down to BINS-8-8i, so the scan runs from the top bin down.
fn pickDigit(lid: u32, remaining: u32) -> Pick {
  let top = BINS - 1u - BINS_PER_INVOCATION * lid;
  var sum = 0u;
  for (var j = 0u; j < BINS_PER_INVOCATION; j++) { sum += atomicLoad(&bins[top - j]); }
  let s = exclusiveScan(lid, sum);
  if (s.before < remaining && remaining <= s.before + sum) {
    var acc = s.before;
    for (var j = 0u; j < BINS_PER_INVOCATION; j++) {
      let b = atomicLoad(&bins[top - j]);
      if (acc + b >= remaining) {
        picked = Pick(top - j, acc, b);
        break;
      }
      acc += b;
    }
  }
  return workgroupUniformLoad(&picked);
}
