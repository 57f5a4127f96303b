import { describe, expect, it } from 'vitest';
import { toTransferable } from './errors';
import { throttle, trackedFetch } from './fetch';
import { evalBatchSize, formatBytes, modelBaseUrl } from './helpers';
import { JobRegistry } from './jobs';
import type { Progress } from './api';

describe('JobRegistry', () => {
  it('cancels a job by id with an AbortError', async () => {
    const jobs = new JobRegistry();
    const p = jobs.run(
      'evaluate',
      7,
      (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    );
    expect(jobs.running('evaluate')).toBe(1);
    expect(jobs.cancel(7)).toBe(true);
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(jobs.running()).toBe(0);
    expect(jobs.cancel(7)).toBe(false);
  });
  it('a job cancelled before it starts (waiting for the one before it) is refused when it does', async () => {
    const jobs = new JobRegistry();
    expect(jobs.cancel(9)).toBe(false);
    let ran = false;
    await expect(
      jobs.run('prune', 9, async () => {
        ran = true;
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(ran).toBe(false);
    // Only that once: the id runs if asked again, and the remembered cancels are bounded.
    await expect(jobs.run('prune', 9, async () => 'ran')).resolves.toBe('ran');
    for (let id = 100; id < 1000; id++) jobs.cancel(id);
    await expect(jobs.run('prune', 100, async () => 'ran')).resolves.toBe('ran');
    await expect(jobs.run('prune', 999, async () => 'ran')).rejects.toMatchObject({ name: 'AbortError' });
  });
  it('cancelKind waits until the cancelled jobs have settled', async () => {
    const jobs = new JobRegistry();
    let settled = false;
    const p = jobs.run('evaluate', undefined, async (signal) => {
      await new Promise((r) => signal.addEventListener('abort', r));
      await new Promise((r) => setTimeout(r, 10));
      settled = true;
    });
    const other = jobs.run('open', undefined, () => new Promise((r) => setTimeout(r, 5)));
    await jobs.cancelKind('evaluate');
    expect(settled).toBe(true);
    await p;
    await other;
  });
});

describe('errors', () => {
  it('cross the boundary as plain Errors', () => {
    expect(toTransferable(new TypeError('x'))).toMatchObject({ name: 'TypeError', message: 'x' });
    expect(toTransferable(Object.assign(new Error('stop'), { name: 'AbortError' })).name).toBe('AbortError');
    expect(toTransferable('oops')).toMatchObject({ name: 'EngineError', message: 'oops' });
    // WebAssembly's heap exhausted: said as such, with what needs less.
    for (const raw of ['memory access out of bounds', 'Aborted(). Build with -sASSERTIONS for more info.']) {
      const e = toTransferable(new Error(raw));
      expect(e.name).toBe('OutOfMemoryError');
      expect(e.message).toMatch(
        /^the engine ran out of memory \(WebAssembly holds at most 4 GB; it said ".+"\)\. Shorter windows/,
      );
    }
  });
});

describe('helpers', () => {
  it('model URLs, sizes, batch sizes', () => {
    expect(modelBaseUrl('gpt-bytes', 'http://h:1/assets/engine.worker-x.js', '/')).toBe('http://h:1/models/gpt-bytes/');
    expect(() => modelBaseUrl('../etc', 'http://h/', '/')).toThrow(/not a model id/);
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(3_375_016)).toBe('3.38 MB');
    expect(evalBatchSize(17)).toBe(60);
    expect(evalBatchSize(128)).toBe(8);
    expect(evalBatchSize(4096)).toBe(1);
    // A costly model's batch holds fewer tokens: GPT-2 small's ~0.28 GFLOP a token, one window of 128.
    expect(evalBatchSize(128, 0.28e9)).toBe(1);
    expect(evalBatchSize(16, 0.28e9)).toBe(5);
    expect(evalBatchSize(128, 2e6)).toBe(8);
  });
  it('throttle passes label changes and the end, drops tiny steps', () => {
    const seen: Progress[] = [];
    const t = throttle((p) => seen.push(p), 0.1);
    for (const fraction of [0, 0.01, 0.05, 0.12, 0.13, 1]) t({ label: 'a', fraction });
    t({ label: 'b', fraction: null });
    expect(seen.map((p) => p.fraction)).toEqual([0, 0.12, 1, null]);
  });
  it('trackedFetch reports bytes and turns an SPA fallback page into a 404', async () => {
    const fake = (async (url: string) =>
      url.endsWith('.json')
        ? new Response('<!doctype html>', { headers: { 'content-type': 'text/html' } })
        : new Response(new Uint8Array(10), { headers: { 'content-length': '10' } })) as unknown as typeof fetch;
    const events: [number, number | null][] = [];
    const f = trackedFetch(new AbortController().signal, (l, t) => events.push([l, t]), fake);
    expect((await f('http://h/models/x/tokenizer.json')).status).toBe(404);
    const r = await f('http://h/models/x/model.safetensors');
    expect(new Uint8Array(await r.arrayBuffer())).toHaveLength(10);
    expect(events.at(-1)).toEqual([10, 10]);
  });
});
