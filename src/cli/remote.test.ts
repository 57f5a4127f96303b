// --model hf:org/name and --model URL against a local hub-shaped server: downloaded once into
// --cache, read from there on the next run; bad ids, missing models and non-model folders.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveHub, type HubFixture } from './hub-fixture';
import { runCli, textSet, tinyGptFiles } from './test-support';
import { cacheDirFor, defaultCacheDir, hubOf, isRemoteModel, MANIFEST } from './remote';

const tmp = mkdtempSync(join(tmpdir(), 'cli-remote-'));
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function tinyGptFolder(): Map<string, Uint8Array> {
  return tinyGptFiles({
    'generation_config.json': json({ bos_token_id: 10 }),
    'eval.safetensors': textSet('And God said, Let there be light: and there was light. '.repeat(3)),
  });
}

let hub: HubFixture;
beforeAll(async () => {
  const tiny = tinyGptFolder();
  hub = await serveHub({
    'org/tiny': { main: tiny, v2: tiny },
    'org/config-only': { main: new Map([['config.json', tiny.get('config.json')!]]) },
  });
});
afterAll(async () => {
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
});

const run = runCli;

describe('remote models', () => {
  it('hf:org/tiny downloads through --hub into --cache, with progress in bytes; the next run uses the cache', async () => {
    const cache = join(tmp, 'cache-a');
    const argv = ['eval', '--model', 'hf:org/tiny', '--hub', hub.url, '--cache', cache, '--json'];
    const first = await run(argv);
    expect(first.stderr).not.toMatch(/error/);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.architecture).toBe('GPT2LMHeadModel');
    expect(report.metric.kind).toBe('lm');
    expect(first.stderr).toMatch(/downloading hf:org\/tiny · [\d.]+ (B|KiB|MiB) of [\d.]+ (B|KiB|MiB)/);
    expect(first.stderr).toMatch(/hf:org\/tiny: downloaded 5 files/);
    const got = hub.requests.filter((p) => p.startsWith('/org/tiny/resolve/main/'));
    expect(got).toContain('/org/tiny/resolve/main/config.json');
    expect(got).toContain('/org/tiny/resolve/main/model.safetensors');
    const dir = cacheDirFor(cache, { kind: 'hub', id: 'org/tiny', revision: 'main' }, hub.url);
    expect(existsSync(join(dir, MANIFEST))).toBe(true);
    expect(readdirSync(dir).sort()).toContain('model.safetensors');

    const before = hub.requests.length;
    const second = await run(argv);
    expect(second.code).toBe(0);
    expect(hub.requests.length).toBe(before);
    expect(JSON.parse(second.stdout).metric).toEqual(report.metric);
    expect(second.stderr).toMatch(/using the copy in/);

    // --quiet: no progress, no notes.
    const quiet = await run(['eval', '--model', 'hf:org/tiny@v2', '--hub', hub.url, '--cache', cache, '--quiet']);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(hub.requests).toContain('/org/tiny/resolve/v2/config.json');
  });

  it('takes a folder URL, and prunes from it', async () => {
    const cache = join(tmp, 'cache-b');
    const r = await run([
      'prune',
      '--model',
      `${hub.url}/org/tiny/resolve/main`,
      '--cache',
      cache,
      '--method',
      'magnitude',
      '--sparsity',
      '0.5',
      '--json',
      '--quiet',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).sparsity).toBeCloseTo(0.5, 1);
    expect(readdirSync(join(cache, 'url'))).toHaveLength(1);

    // The URL of its config.json names the same folder: the same copy, no request.
    const before = hub.requests.length;
    const again = await run(['eval', '--model', `${hub.url}/org/tiny/resolve/main/config.json`, '--cache', cache]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/using the copy in/);
    expect(hub.requests.length).toBe(before);
  });

  it('a missing model, a non-model folder, an unreachable hub and a bad id each get one clear line', async () => {
    const cache = join(tmp, 'cache-c');
    const missing = await run(['eval', '--model', 'hf:org/nope', '--hub', hub.url, '--cache', cache]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^error: hf:org\/nope: no such model or revision on http:\/\/127\.0\.0\.1:\d+ \(.*config\.json: HTTP 404\)/m,
    );
    expect(existsSync(join(cache, 'hub'))).toBe(false);

    const notModel = await run(['eval', '--model', 'hf:org/config-only', '--hub', hub.url, '--cache', cache]);
    expect(notModel.code).toBe(1);
    expect(notModel.stderr).toMatch(/is not a model folder: it has config.json but neither model.safetensors nor/);

    const down = await run(['eval', '--model', 'hf:org/tiny', '--hub', 'http://127.0.0.1:9', '--cache', cache]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /^error: hf:org\/tiny: could not reach http:\/\/127\.0\.0\.1:9\/org\/tiny\/resolve\/main\//m,
    );

    const bad = await run(['eval', '--model', 'hf:gpt2', '--cache', cache]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --model hf:gpt2: "gpt2" is not a hub model id/);
    const badHub = await run(['eval', '--model', 'hf:org/tiny', '--hub', 'ftp://x', '--cache', cache]);
    expect(badHub.code).toBe(2);
    expect(badHub.stderr).toMatch(/^error: --hub: "ftp:\/\/x" is not a hub address/);
  });

  it('cache and hub defaults follow XDG_CACHE_HOME and HF_ENDPOINT', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/pruning-workbench');
    expect(defaultCacheDir({ HOME: '/h' })).toMatch(/\.cache\/pruning-workbench$/);
    expect(hubOf(undefined, { HF_ENDPOINT: 'https://hf-mirror.com/' })).toBe('https://hf-mirror.com');
    expect(hubOf(undefined, {})).toBe('https://huggingface.co');
    expect(hubOf('http://a:1', { HF_ENDPOINT: 'https://b' })).toBe('http://a:1');
    expect(isRemoteModel('hf:o/m')).toBe(true);
    expect(isRemoteModel('https://x/m')).toBe(true);
    expect(isRemoteModel('public/models/gpt-bytes')).toBe(false);
  });
});
