import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duplicateKey } from './json-keys';

describe('duplicateKey', () => {
  it('finds a repeated key at any depth, with the path to its object', () => {
    expect(duplicateKey('{"a":1,"a":2}')).toEqual({ path: [], key: 'a' });
    expect(duplicateKey('{"t":{"dtype":"F16","shape":[],"dtype":"F32"}}')).toEqual({ path: ['t'], key: 'dtype' });
    expect(duplicateKey('{"x":[{"k":1,"k":2}]}')).toEqual({ path: ['x', '[]'], key: 'k' });
    // Escapes are read as JSON reads them: "\u0061" is "a".
    expect(duplicateKey('{"a":1,"\\u0061":2}')).toEqual({ path: [], key: 'a' });
  });

  it('does not mistake equal keys of different objects, or strings that look like JSON', () => {
    expect(duplicateKey('[{"a":1},{"a":2}]')).toBeNull();
    expect(duplicateKey('{"a":{"a":{"a":1}}}')).toBeNull();
    expect(duplicateKey('{"a":"{\\"a\\":1,\\"a\\":2}","b":"\\\\","c":"[,"}')).toBeNull();
    expect(duplicateKey(`${'['.repeat(50_000)}${']'.repeat(50_000)}`)).toBeNull();
  });

  it('never throws or hangs on text that is not JSON', () => {
    for (const t of ['{"a', '{"a":1,"\\x":2,"\\x":3}', '"a","a"', '}}{"a":1,"a":2', '{"a\\']) duplicateKey(t);
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'{}[],:"\\a1 ') }), (t) => {
        duplicateKey(t);
      }),
      { numRuns: 200 },
    );
  });

  it('agrees with JSON.parse on random JSON (none in what JSON.stringify writes; one once a key is repeated)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.string({ maxLength: 4 }), (v, k) => {
        expect(duplicateKey(JSON.stringify(v))).toBeNull();
        const text = `{${JSON.stringify(k)}:${JSON.stringify(v)},"x":[${JSON.stringify(v)}],${JSON.stringify(k)}:0}`;
        expect(duplicateKey(text)).toEqual({ path: [], key: k });
      }),
      { numRuns: 100 },
    );
  });
});
