import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HUB,
  formatHubId,
  hubFileUrl,
  normalizeHub,
  parseHubId,
  parseRemote,
  remoteBaseUrl,
  remoteName,
  SourceError,
} from './hub';

describe('hub ids', () => {
  it('reads org/name with an optional revision (default main) and an optional hf: prefix', () => {
    expect(parseHubId('openai-community/gpt2')).toEqual({ id: 'openai-community/gpt2', revision: 'main' });
    expect(parseHubId(' hf:org/tiny.v2@v1.0 ')).toEqual({ id: 'org/tiny.v2', revision: 'v1.0' });
    expect(parseHubId('org/x@refs/pr/1')).toEqual({ id: 'org/x', revision: 'refs/pr/1' });
    expect(formatHubId({ id: 'org/x', revision: 'main' })).toBe('org/x');
    expect(formatHubId({ id: 'org/x', revision: 'abc' })).toBe('org/x@abc');
  });

  it('refuses what the hub would not name a model, saying so', () => {
    for (const bad of [
      'gpt2',
      'a/b/c',
      '/x',
      'org/',
      'org/na me',
      'org/-x',
      'org/x--y',
      'org/..',
      '../x',
      'o/x@',
      'o/x@a..b',
      '<b>/x',
    ])
      expect(() => parseHubId(bad), bad).toThrow(SourceError);
    expect(() => parseHubId('gpt2')).toThrow(/not a hub model id: write it as org\/name/);
  });

  it('resolves files as {hub}/{id}/resolve/{revision}/{file}', () => {
    expect(hubFileUrl(DEFAULT_HUB, parseHubId('org/tiny'), 'config.json')).toBe(
      'https://huggingface.co/org/tiny/resolve/main/config.json',
    );
    expect(hubFileUrl('http://127.0.0.1:8080/', parseHubId('org/tiny@refs/pr/2'), 'model.safetensors')).toBe(
      'http://127.0.0.1:8080/org/tiny/resolve/refs%2Fpr%2F2/model.safetensors',
    );
    expect(hubFileUrl('https://mirror.example/hf', parseHubId('a/b'), 'x.json')).toBe(
      'https://mirror.example/hf/a/b/resolve/main/x.json',
    );
  });

  it('checks the hub address', () => {
    expect(normalizeHub('https://hf-mirror.com/')).toBe('https://hf-mirror.com');
    for (const bad of ['ftp://x', 'not a url', 'javascript:alert(1)', 'https://x/?a=1'])
      expect(() => normalizeHub(bad), bad).toThrow(SourceError);
  });

  it('tells a folder URL from a hub id', () => {
    expect(parseRemote('org/tiny@v2')).toEqual({ kind: 'hub', id: 'org/tiny', revision: 'v2' });
    expect(parseRemote('https://host/models/m')).toEqual({ kind: 'url', url: 'https://host/models/m/' });
    expect(parseRemote('https://host/models/m/config.json')).toEqual({ kind: 'url', url: 'https://host/models/m/' });
    expect(() => parseRemote('file:///etc/')).toThrow(/not an http or https URL/);
    expect(() => parseRemote('  ')).toThrow(/hub model id/);
    expect(remoteBaseUrl({ kind: 'hub', id: 'o/m', revision: 'main' }, 'http://h:1')).toBe(
      'http://h:1/o/m/resolve/main/',
    );
    expect(remoteName({ kind: 'hub', id: 'o/m', revision: 'r1' })).toBe('hf:o/m@r1');
  });
});
