// Order keys (library, no entry point): maps an f32's bits to a u32 whose unsigned order is the
// selection order of src/engine/pruning/select.ts — larger numbers first, -0 equal to +0, every NaN
// below everything (so NaN is pruned first and kept last). Works on bits only, never on float
// arithmetic, so no compiler's NaN or denormal handling can change the order.
// MAGNITUDE ranks |x| instead of x (a magnitude prune needs no separate |w| pass).

override MAGNITUDE: bool = false;

// No real number maps to this key (it would be the bits 0x7fffffff, a NaN): a threshold of
// NO_KEY keeps nothing.
const NO_KEY: u32 = 0xffffffffu;

fn orderKey(raw: u32) -> u32 {
  var bits = raw;
  if (MAGNITUDE) { bits = bits & 0x7fffffffu; }
  let absBits = bits & 0x7fffffffu;
  if (absBits > 0x7f800000u) { return 0u; }           // NaN, whatever its sign and payload
  if (absBits == 0u) { return 0x80000000u; }          // -0 ranks as +0
  if ((bits & 0x80000000u) != 0u) { return ~bits; }   // negatives: larger magnitude, smaller key
  return bits | 0x80000000u;                          // positives above every negative
}

