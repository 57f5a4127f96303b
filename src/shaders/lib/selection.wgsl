// The state of a global selection (library, no entry point), one small storage buffer carried from
// pass to pass on the GPU so that no pass waits for the CPU. The host writes
// { 0, 0, 0, keep, 0, 0 } before the first histogram pass.

struct Selection {
  digitIx: u32,    // digits decided so far (3 when done)
  prefix: u32,     // the decided digits of the threshold key; the threshold key when done
  prefixMask: u32, // which bits of `prefix` are decided
  remaining: u32,  // how many keys still to keep among those matching the prefix; when done: ties kept
  above: u32,      // keys above the prefix (all kept)
  ties: u32,       // when done: keys equal to the threshold key, kept or not
}

// Whether keys equal to the threshold are split (some kept, some not), so ranks by position matter.
fn tiesSplit(s: Selection) -> bool {
  return s.remaining != 0u && s.remaining != s.ties;
}

// Tensor-local parameters of the global passes.
struct Part {
  n: u32,          // elements in this tensor
  firstBlock: u32, // index of its first 8192-element block among all tensors' blocks
}

// Blocks of the tie and mask passes: 256 invocations × one 32-element mask word each.
const BLOCK: u32 = 8192u;
