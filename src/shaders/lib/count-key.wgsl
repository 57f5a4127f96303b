// Counting keys (library, no entry point; needs keys.wgsl). The kernel binds its input as
// `var<storage, read> values: array<u32>` (f32 bits).

// How many of values[first..last) have order key `key`.
fn countKey(first: u32, last: u32, key: u32) -> u32 {
  var count = 0u;
  for (var i = first; i < last; i++) {
    if (orderKey(values[i]) == key) { count++; }
  }
  return count;
}
