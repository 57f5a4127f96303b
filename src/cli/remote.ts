// --model as a hub id (hf:org/name[@revision]) or a folder URL: the model is downloaded into a
// cache directory once and read from there as any model directory is, so later runs need no
// network. Ids resolve as the page resolves them (src/engine/hub.ts) against --hub, else
// $HF_ENDPOINT, else the Hugging Face hub. A download lands in a scratch directory that is renamed
// into place only when every file is there, and a manifest marks the directory complete: an
// interrupted or failed download leaves nothing that a later run would take for a model.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  DEFAULT_HUB,
  HUB_PREFIX,
  normalizeFolderUrl,
  normalizeHub,
  parseHubId,
  type RemoteRef,
  remoteBaseUrl,
  remoteName,
  SourceError,
} from '../engine/hub';
import { fetchModelFolder, ModelError } from '../engine/session';
import { isAbortError } from '../engine/abort';
import { downloadProgress, trackedFetch } from '../workers/fetch';
import { CliError, UsageError } from './errors';
import { bytes } from './format';

export const MANIFEST = '.pruning-workbench-model.json';

/** Whether --model names a model elsewhere (hf:… or an http(s) URL) rather than a directory. */
export function isRemoteModel(model: string): boolean {
  return model.startsWith(HUB_PREFIX) || /^https?:\/\//i.test(model);
}

/** $XDG_CACHE_HOME/pruning-workbench, else ~/.cache/pruning-workbench. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg?.startsWith('/') ? xdg : join(homedir(), '.cache'), 'pruning-workbench');
}

/** --model's value as a remote model; a malformed one is a usage error. */
export function remoteRefOf(model: string): RemoteRef {
  try {
    if (model.startsWith(HUB_PREFIX)) return { kind: 'hub', ...parseHubId(model.slice(HUB_PREFIX.length)) };
    return { kind: 'url', url: normalizeFolderUrl(model) };
  } catch (e) {
    if (e instanceof SourceError) throw new UsageError(`--model ${model}: ${e.message}`);
    throw e;
  }
}

/** The hub: --hub, else $HF_ENDPOINT, else DEFAULT_HUB. */
export function hubOf(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const hub = given ?? (env.HF_ENDPOINT || DEFAULT_HUB);
  try {
    return normalizeHub(hub);
  } catch (e) {
    if (e instanceof SourceError)
      throw new UsageError(`${given !== undefined ? '--hub' : 'HF_ENDPOINT'}: ${e.message}`);
    throw e;
  }
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/**
 * Where a model is kept: hub/<host>/<org>/<name>/<revision> for a hub id (readable), url/<hash of
 * the URL> for a folder URL.
 */
export function cacheDirFor(root: string, ref: RemoteRef, hub: string): string {
  if (ref.kind === 'hub') {
    const [org, name] = ref.id.split('/');
    return join(root, 'hub', slug(new URL(hub).host), org, name, slug(ref.revision));
  }
  const hash = createHash('sha256').update(ref.url).digest('hex').slice(0, 24);
  return join(root, 'url', hash);
}

export interface RemoteOptions {
  hub?: string;
  cache?: string;
  env?: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** Download progress, in words ("downloading hf:org/name · 1.20 MiB of 3.40 MiB"). */
  onProgress: (label: string, fraction: number) => void;
  /** A line that stays (where the model came from). */
  note: (message: string) => void;
  fetchImpl?: typeof fetch;
}

/** The local directory of --model: itself, or a remote model's cache directory, downloaded when missing. */
export async function modelDirOf(model: string, opts: RemoteOptions): Promise<string> {
  if (!isRemoteModel(model)) return model;
  const env = opts.env ?? process.env;
  const ref = remoteRefOf(model);
  const hub = hubOf(opts.hub, env);
  let base: string;
  try {
    base = remoteBaseUrl(ref, hub);
  } catch (e) {
    if (e instanceof SourceError) throw new UsageError(`--model ${model}: ${e.message}`);
    throw e;
  }
  const name = remoteName(ref);
  const dir = cacheDirFor(opts.cache ?? defaultCacheDir(env), ref, hub);
  if (existsSync(join(dir, MANIFEST))) {
    opts.note(`${name}: using the copy in ${dir}`);
    return dir;
  }
  const report = downloadProgress(
    name,
    (p) => opts.onProgress(p.label.replace(/^Downloading /, 'downloading '), p.fraction ?? 0),
    bytes,
    1000,
  );
  let files: Map<string, Uint8Array>;
  try {
    files = await fetchModelFolder(base, trackedFetch(opts.signal, report, opts.fetchImpl));
  } catch (e) {
    if (isAbortError(e) || opts.signal.aborted) throw e;
    if (e instanceof ModelError && /^there is no model at/.test(e.message) && ref.kind === 'hub')
      throw new CliError(
        `${name}: no such model or revision on ${hub} (${base}config.json: HTTP 404); check the id and the revision`,
      );
    if (e instanceof ModelError) throw new CliError(`${name}: ${e.message}`);
    if (e instanceof TypeError) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`${name}: could not reach ${base} (${cause?.code ?? cause?.message ?? e.message})`);
    }
    throw e;
  }
  const scratch = `${dir}.partial-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  try {
    for (const [file, b] of files) writeFileSync(join(scratch, file), b);
    const list = [...files].map(([file, b]) => ({ name: file, bytes: b.length }));
    writeFileSync(
      join(scratch, MANIFEST),
      `${JSON.stringify({ source: name, base, files: list, savedAt: new Date().toISOString() }, null, 2)}\n`,
    );
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(scratch, dir);
  } catch (e) {
    rmSync(scratch, { recursive: true, force: true });
    throw new CliError(`could not write ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const total = [...files.values()].reduce((n, b) => n + b.length, 0);
  opts.note(`${name}: downloaded ${files.size} files (${bytes(total)}) into ${dir}`);
  return dir;
}
