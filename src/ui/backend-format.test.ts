import { describe, expect, it } from 'vitest';
import { backendThreads, formatThreads } from './backend-format';

describe('formatThreads', () => {
  it('says thread for one and threads for more', () => {
    expect(formatThreads(1)).toBe('1 thread');
    expect(formatThreads(2)).toBe('2 threads');
    expect(formatThreads(8)).toBe('8 threads');
  });
});

describe('backendThreads', () => {
  it('shows the WASM backend’s threads, with why not more in the tooltip', () => {
    expect(backendThreads({ name: 'wasm', threads: 2, threadsReason: null })).toEqual({
      text: '2 threads',
      title: 'WASM on 2 threads: one per CPU core, at most 8 (the threaded SIMD build)',
    });
    expect(
      backendThreads({ name: 'wasm', threads: 1, threadsReason: 'the page is not cross-origin isolated' }),
    ).toEqual({ text: '1 thread', title: 'WASM on 1 thread: the page is not cross-origin isolated' });
    expect(backendThreads({ name: 'wasm', threads: 1, threadsReason: null })).toEqual({
      text: '1 thread',
      title: 'WASM on 1 thread',
    });
  });

  it('says nothing for another backend, or when the worker did not report threads', () => {
    expect(backendThreads({ name: 'webgpu', threads: undefined, threadsReason: undefined })).toBeNull();
    expect(backendThreads({ name: 'cpu' })).toBeNull();
    expect(backendThreads({ name: 'wasm' })).toBeNull();
  });
});
