// The link's model source: hub ids, folder URLs and dropped files (named, with their digest) round
// trip as v2 links; links without a source stay v1 exactly as before; bad sources are refused.
import { describe, expect, it } from 'vitest';
import { defaultShareState, encodeShareState, type LinkSource, modelKeyOf, parseShareHash } from './share';

const digest = 'ab'.repeat(32);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('model source in the link', () => {
  it('round-trips hub, URL and files sources as v2; no source stays v1', () => {
    const sources: LinkSource[] = [
      { kind: 'hub', id: 'org/tiny', revision: 'main' },
      { kind: 'hub', id: 'org/tiny', revision: 'refs/pr/3' },
      { kind: 'url', url: 'https://example.org/models/m/' },
      { kind: 'files', files: ['config.json', 'model.safetensors', 'tokenizer.json'], digest },
    ];
    for (const source of sources) {
      const s = { ...defaultShareState(modelKeyOf(source)), source, method: 'wanda' as const, sparsity: 0.5 };
      const h = encodeShareState(s);
      expect(h).toMatch(/^#v2\./);
      expect(parseShareHash(h)).toEqual({ kind: 'ok', state: s });
    }
    expect(modelKeyOf(sources[0])).toBe('hf:org/tiny');
    expect(modelKeyOf(sources[1])).toBe('hf:org/tiny@refs/pr/3');
    expect(modelKeyOf(sources[3])).toBe(`files:${digest.slice(0, 16)}`);
    expect(encodeShareState(defaultShareState())).toMatch(/^#v1\./);
  });

  it('reads links made before sources existed as before', () => {
    const old = parseShareHash(`#v1.${b64({ model: 'gpt-bytes', method: 'wanda', sparsity: 0.5 })}`);
    expect(old.kind === 'ok' && old.state).toMatchObject({ model: 'gpt-bytes', source: null, method: 'wanda' });
  });

  it('refuses bad sources with a message and a model that does not match its source', () => {
    const bad: [unknown, RegExp][] = [
      [{ model: 'hf:gpt2', source: { kind: 'hub', id: 'gpt2', revision: 'main' } }, /not a hub model id/],
      [{ model: 'x', source: { kind: 'hub', id: 'org/a', revision: 'main' } }, /does not match/],
      [{ model: 'javascript:alert(1)/', source: { kind: 'url', url: 'javascript:alert(1)/' } }, /http or https/],
      [{ model: 'files:abab', source: { kind: 'files', files: ['config.json'], digest: 'xyz' } }, /SHA-256/],
      [{ model: 'files:abababababababab', source: { kind: 'files', files: ['<img>'], digest } }, /file names/],
      [{ model: 'a', source: { kind: 'disk' } }, /hub, url or files/],
      [{ model: 'hf:o/a', source: { kind: 'hub', id: 'o/a', revision: 'main', extra: 1 } }, /source\.extra/],
      [{ model: 'org/name' }, /"model" must be a model id/],
    ];
    for (const [state, message] of bad) {
      const r = parseShareHash(`#v2.${b64(state)}`);
      expect(r.kind, JSON.stringify(state)).toBe('error');
      expect(r.kind === 'error' && r.message).toMatch(message);
    }
    expect(parseShareHash(`#v4.${b64({ model: 'vit-fashion' })}`)).toMatchObject({
      kind: 'error',
      message: expect.stringMatching(/newer version/),
    });
  });
});
