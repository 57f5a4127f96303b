// JSON.parse keeps the last of an object's repeated keys and drops the others without a word.
// Readers of the same file disagree on which copy counts (Rust's serde refuses the file, Python's
// json takes the last), so the engine refuses a file that names a key twice rather than guess.

/** A key an object of the JSON text gives twice, and the keys of the objects that lead to it. */
export interface DuplicateKey {
  /** Keys from the top-level object down to the object holding the duplicate ("[]" for an array element). */
  path: string[];
  key: string;
}

/**
 * The first key repeated within one object anywhere in `text`, which should be valid JSON (parse it
 * first: on other text the answer means nothing, but it comes, without throwing or hanging). One
 * pass, no recursion, so nesting of any depth is fine.
 */
export function duplicateKey(text: string): DuplicateKey | null {
  // One frame per open object or array: an object's frame holds the keys seen so far.
  const frames: { keys: Set<string> | null; key: string }[] = [];
  let keyNext = false;
  let lastKey = '[]';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) return null; // not JSON: the caller's parse reports it
      if (keyNext) {
        const keys = frames[frames.length - 1]?.keys;
        if (!keys) return null; // not JSON
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          return null; // a bad escape: not JSON
        }
        if (keys.has(key)) return { path: frames.slice(1).map((f) => f.key), key };
        keys.add(key);
        lastKey = key;
        keyNext = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      const inArray = frames.length > 0 && frames[frames.length - 1].keys === null;
      frames.push({ keys: c === '{' ? new Set() : null, key: inArray ? '[]' : lastKey });
      keyNext = c === '{';
    } else if (c === '}' || c === ']') {
      frames.pop();
      keyNext = false;
    } else if (c === ',') keyNext = frames[frames.length - 1]?.keys != null;
  }
  return null;
}
