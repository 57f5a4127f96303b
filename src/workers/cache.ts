// Downloaded models kept in the browser (the Cache API), so a model opened from the hub or a URL
// opens again without the network: each file under its resolved URL, and beside them a manifest
// (a synthetic URL in the same folder) that names the files and their sizes. A model counts as
// cached only once its manifest is written, which happens after it opened, so a cancelled or
// failed download leaves nothing listed; a manifest whose files were evicted is not offered.
import type { RemoteRef } from '../engine/hub';

/** The part of the Cache API used here (a browser's Cache is one; tests give a Map-backed one). */
export interface ModelCache {
  match(url: string): Promise<Response | undefined>;
  put(url: string, response: Response): Promise<void>;
  delete(url: string): Promise<boolean>;
  keys(): Promise<readonly { url: string }[]>;
}

export interface CachedModel {
  /** The folder its files were fetched from (ending in "/"): the key of the entry. */
  base: string;
  /** In words: "hf:org/name", or the URL. */
  name: string;
  source: RemoteRef;
  files: { name: string; bytes: number }[];
  bytes: number;
  /** When it was downloaded (ISO 8601). */
  savedAt: string;
}

export const CACHE_NAME = 'pruning-workbench-models';
const MANIFEST = '.pruning-workbench-model.json';

const manifestUrl = (base: string) => `${base}${MANIFEST}`;

/** The page's cache of models, or null where the Cache API is missing (an insecure origin, say). */
export async function openModelCache(): Promise<ModelCache | null> {
  if (typeof caches === 'undefined') return null;
  try {
    return (await caches.open(CACHE_NAME)) as unknown as ModelCache;
  } catch {
    return null;
  }
}

/** Keeps a model's files (as served, by name) and then its manifest. */
export async function saveModel(
  cache: ModelCache,
  entry: Pick<CachedModel, 'base' | 'name' | 'source'>,
  files: ReadonlyMap<string, Uint8Array>,
  now: Date = new Date(),
): Promise<CachedModel> {
  for (const [name, bytes] of files) {
    await cache.put(
      `${entry.base}${name}`,
      new Response(bytes as BodyInit, {
        headers: {
          'Content-Type': name.endsWith('.json') ? 'application/json' : 'application/octet-stream',
          'Content-Length': String(bytes.length),
        },
      }),
    );
  }
  const list = [...files].map(([name, bytes]) => ({ name, bytes: bytes.length }));
  const manifest: CachedModel = {
    ...entry,
    files: list,
    bytes: list.reduce((n, f) => n + f.bytes, 0),
    savedAt: now.toISOString(),
  };
  await cache.put(
    manifestUrl(entry.base),
    new Response(JSON.stringify(manifest), { headers: { 'Content-Type': 'application/json' } }),
  );
  return manifest;
}

function isManifest(v: unknown, base: string): v is CachedModel {
  const m = v as CachedModel;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.base === base &&
    typeof m.name === 'string' &&
    typeof m.source === 'object' &&
    m.source !== null &&
    Array.isArray(m.files) &&
    m.files.every((f) => typeof f?.name === 'string' && Number.isInteger(f.bytes)) &&
    typeof m.bytes === 'number'
  );
}

async function readManifest(cache: ModelCache, base: string): Promise<CachedModel | null> {
  const res = await cache.match(manifestUrl(base));
  if (!res) return null;
  try {
    const m: unknown = await res.json();
    return isManifest(m, base) ? m : null;
  } catch {
    return null;
  }
}

/** A cached model's files by name, or null when it is not (wholly) cached. */
export async function readCachedModel(cache: ModelCache, base: string): Promise<Map<string, Uint8Array> | null> {
  const m = await readManifest(cache, base);
  if (!m) return null;
  const files = new Map<string, Uint8Array>();
  for (const f of m.files) {
    const res = await cache.match(`${base}${f.name}`);
    if (!res) return null;
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length !== f.bytes) return null;
    files.set(f.name, bytes);
  }
  return files;
}

/** Every model kept, newest first. */
export async function listCachedModels(cache: ModelCache): Promise<CachedModel[]> {
  const bases = (await cache.keys()).map((r) => r.url).filter((u) => u.endsWith(MANIFEST));
  const models = await Promise.all(bases.map((u) => readManifest(cache, u.slice(0, -MANIFEST.length))));
  return models.filter((m): m is CachedModel => m !== null).sort((a, b) => (a.savedAt < b.savedAt ? 1 : -1));
}

/** Forgets a model: its manifest first (so it is never listed half-deleted), then its files. */
export async function deleteCachedModel(cache: ModelCache, base: string): Promise<void> {
  const m = await readManifest(cache, base);
  await cache.delete(manifestUrl(base));
  for (const f of m?.files ?? []) await cache.delete(`${base}${f.name}`);
}

/** A Map-backed ModelCache (tests; and where the Cache API is missing it is not used). */
export function memoryCache(): ModelCache & { store: Map<string, Uint8Array> } {
  const store = new Map<string, Uint8Array>();
  return {
    store,
    async match(url) {
      const b = store.get(url);
      return b ? new Response(b as BodyInit) : undefined;
    },
    async put(url, response) {
      store.set(url, new Uint8Array(await response.arrayBuffer()));
    },
    async delete(url) {
      return store.delete(url);
    },
    async keys() {
      return [...store.keys()].map((url) => ({ url }));
    },
  };
}
