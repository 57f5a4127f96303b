// For tests: a local server shaped like the Hugging Face hub, {id}/resolve/{revision}/{file}, over
// model folders held in memory; it counts the requests so a test can see what came from a cache.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubFixture {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Every request's path, in order. */
  requests: string[];
  /** Files are sent in chunks of this many bytes, `delayMs` apart (0: at once), to watch a download's progress. */
  chunkBytes: number;
  delayMs: number;
  close(): Promise<void>;
}

/** `models`: "org/name" → (revision → (file name → bytes)). */
export async function serveHub(models: Record<string, Record<string, Map<string, Uint8Array>>>): Promise<HubFixture> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const m = /^\/([^/]+\/[^/]+)\/resolve\/(.+)\/([^/]+)$/.exec(path);
    const bytes = m ? models[m[1]]?.[m[2]]?.get(m[3]) : undefined;
    // The page reading it is on another origin.
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (!bytes) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Entry not found');
      return;
    }
    res.writeHead(200, {
      'Content-Type': m![3].endsWith('.json') ? 'application/json' : 'application/octet-stream',
      'Content-Length': String(bytes.length),
    });
    const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    if (fixture.delayMs <= 0) {
      res.end(body);
      return;
    }
    let offset = 0;
    const next = () => {
      if (res.destroyed) return;
      const end = Math.min(body.length, offset + fixture.chunkBytes);
      res.write(body.subarray(offset, end));
      offset = end;
      if (offset >= body.length) res.end();
      else timers.add(setTimeout(next, fixture.delayMs));
    };
    next();
  });
  const timers = new Set<ReturnType<typeof setTimeout>>();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fixture: HubFixture = {
    url: `http://127.0.0.1:${port}`,
    requests,
    chunkBytes: 16 * 1024,
    delayMs: 0,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
  return fixture;
}
