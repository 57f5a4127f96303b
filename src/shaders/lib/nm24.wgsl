// 2:4 groups (library, no entry point): one group's 4-bit code from the index stream of
// engine/gpu/nm24.ts (p0 in bits 0–1, p1 in bits 2–3) as the columns its two slots read and
// whether they hold an entry (p0 < p1: both; p0 = p1: slot 0; p0 > p1: neither). Both columns lie
// inside the row even for an empty slot, so a kernel may read x there; it must drop that product,
// never add it (an empty slot's 0 · ∞ would be NaN where the masked product has nothing).

struct Nm24Group {
  cols: vec2u,      // slot 0 reads column 4g + min(p0, p1), slot 1 column 4g + p1
  kept: vec2<bool>,
}

// Group `g` of its row, number `q` of the whole stream; `word` is index word q / 8.
fn nm24Group(word: u32, q: u32, g: u32) -> Nm24Group {
  let code = word >> (q % 8u * 4u);
  let p0 = code & 3u;
  let p1 = (code >> 2u) & 3u;
  return Nm24Group(4u * g + vec2u(min(p0, p1), p1), vec2<bool>(p0 <= p1, p0 < p1));
}
