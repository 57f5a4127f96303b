// What the page benchmarks share: the production build served by `vite preview`, and the memory of
// the browser's processes read from /proc (Playwright starts Chromium as a child of this process).
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';

/** Serves `dist` on `port` in its own process group; resolves once it answers. */
export async function startPreview(port: number, dist: string): Promise<ChildProcess> {
  const server = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort', '--outDir', dist], {
    stdio: 'ignore',
    detached: true,
  });
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`http://localhost:${port}/`)).ok) return server;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (server.pid) process.kill(-server.pid);
  throw new Error(`vite preview did not answer on port ${port}`);
}

/** Each live process's parent and resident bytes, from /proc. */
function processTable(): { children: Map<number, number[]>; rss: Map<number, number> } {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
      rss.set(Number(d), Number(fields[21]) * 4096);
    } catch {
      // the process ended while we looked
    }
  }
  return { children, rss };
}

/** The Chromium process this process started (the browser Playwright launched). */
/** The page on WASM with its default model open: its first block on screen. */
export async function openDefaultPage(page: Page, port: number): Promise<void> {
  await page.goto(`http://localhost:${port}/?backend=wasm`);
  await page
    .getByRole('group', { name: /^Block \d+$/ })
    .first()
    .waitFor({ timeout: 300_000 });
}

export function browserPid(): number {
  const pid = (processTable().children.get(process.pid) ?? []).find((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('chromium');
    } catch {
      return false;
    }
  });
  if (pid === undefined) throw new Error('cannot find the browser process');
  return pid;
}

/** Every process of the tree under `rootPid` with its resident bytes. */
export function treeRss(rootPid: number): { pid: number; rss: number }[] {
  const { children, rss } = processTable();
  const out: { pid: number; rss: number }[] = [];
  const stack = [rootPid];
  while (stack.length) {
    const p = stack.pop()!;
    out.push({ pid: p, rss: rss.get(p) ?? 0 });
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}
