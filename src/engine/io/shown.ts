// A value read from a user's file, for an error message: its JSON, cut short. Safe for anything
// JSON.parse returns: JSON.stringify recurses, so a deeply nested array would overflow the stack,
// where JSON.parse reads it iteratively.

export function shown(v: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    return Array.isArray(v) ? 'a deeply nested array' : 'a deeply nested object';
  }
  if (text === undefined) return String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
