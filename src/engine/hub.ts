// Where a model that is not on this machine lives: a Hugging Face hub id ("org/name", optionally
// "@revision") or the URL of a folder. The page and the command line both read and resolve model
// sources here, so an id means the same files everywhere: `{hub}/{id}/resolve/{revision}/{file}`.

export const DEFAULT_HUB = 'https://huggingface.co';
export const DEFAULT_REVISION = 'main';
/** The command line's prefix for a hub id ("hf:org/name@rev"); the page accepts it too. */
export const HUB_PREFIX = 'hf:';

export interface HubRef {
  /** "org/name". */
  id: string;
  /** A branch, tag or commit. */
  revision: string;
}

/** A model to download: a hub id, or a folder URL (ending in "/"). */
export type RemoteRef = ({ kind: 'hub' } & HubRef) | { kind: 'url'; url: string };

export class SourceError extends Error {}

// The hub's own rules for repository names: letters, digits, "-", "_", "."; no "--" or "..", and
// neither "-" nor "." at either end.
const PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$/;
const REVISION = /^[A-Za-z0-9._][A-Za-z0-9._/-]{0,199}$/;

/** "org/name" or "org/name@revision" (an optional "hf:" before it); throws SourceError saying what is wrong. */
export function parseHubId(text: string): HubRef {
  const t = text.trim().replace(/^hf:/, '');
  const at = t.indexOf('@');
  const id = at < 0 ? t : t.slice(0, at);
  const revision = at < 0 ? DEFAULT_REVISION : t.slice(at + 1);
  const parts = id.split('/');
  if (parts.length !== 2 || !parts.every((p) => PART.test(p) && !/--|\.\./.test(p)))
    throw new SourceError(
      `"${clip(text)}" is not a hub model id: write it as org/name (letters, digits, "-", "_", "."), optionally @revision`,
    );
  if (!REVISION.test(revision) || revision.includes('..') || revision.endsWith('/'))
    throw new SourceError(`"${clip(revision)}" is not a revision (a branch, tag or commit)`);
  return { id, revision };
}

/** "org/name", with "@revision" when it is not the default. */
export function formatHubId(ref: HubRef): string {
  return ref.revision === DEFAULT_REVISION ? ref.id : `${ref.id}@${ref.revision}`;
}

/** The hub's address, checked: an http(s) URL, without a trailing "/". */
export function normalizeHub(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new SourceError(`"${clip(url)}" is not a hub address (an http or https URL)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new SourceError(`"${clip(url)}" is not a hub address (an http or https URL)`);
  if (u.search || u.hash) throw new SourceError(`the hub address "${clip(url)}" must not have a query or a fragment`);
  return u.href.replace(/\/+$/, '');
}

/** The URL of one file of a hub model. */
export function hubFileUrl(hub: string, ref: HubRef, file: string): string {
  return `${hubBaseUrl(hub, ref)}${file}`;
}

/** The folder all of a hub model's files are under, ending in "/". */
export function hubBaseUrl(hub: string, ref: HubRef): string {
  return `${normalizeHub(hub)}/${ref.id}/resolve/${encodeURIComponent(ref.revision)}/`;
}

/** A folder URL, checked (http or https) and ending in "/"; a URL of config.json means its folder. */
export function normalizeFolderUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    throw new SourceError(`"${clip(text)}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new SourceError(`"${clip(text)}" is not an http or https URL`);
  if (u.hash) u.hash = '';
  u.pathname = u.pathname.replace(/\/config\.json$/, '/');
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return u.href;
}

/** What a person typed: a URL (http or https) or a hub id. */
export function parseRemote(text: string): RemoteRef {
  const t = text.trim();
  if (!t) throw new SourceError('give a hub model id (org/name) or the URL of a model folder');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) return { kind: 'url', url: normalizeFolderUrl(t) };
  return { kind: 'hub', ...parseHubId(t) };
}

/** The folder the files of a remote model are fetched from (ending in "/"). */
export function remoteBaseUrl(ref: RemoteRef, hub: string = DEFAULT_HUB): string {
  return ref.kind === 'hub' ? hubBaseUrl(hub, ref) : normalizeFolderUrl(ref.url);
}

/** A remote model in words: "hf:org/name", "hf:org/name@v2", or its URL. */
export function remoteName(ref: RemoteRef): string {
  return ref.kind === 'hub' ? `${HUB_PREFIX}${formatHubId(ref)}` : ref.url;
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
}
