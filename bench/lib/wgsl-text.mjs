// Node module hooks that import .wgsl files as text (export default <source>), as Vite's `?raw`
// and esbuild's `with { type: 'text' }` do, so that tsx runs code that imports shaders:
//   tsx --import ./bench/lib/wgsl-text.mjs bench/gpu.ts
// Imported on the main thread it registers itself; Node then loads it again on its hooks thread.
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

if (isMainThread) register(import.meta.url);

const isWgsl = (url) => url.startsWith('file:') && new URL(url).pathname.endsWith('.wgsl');

export async function resolve(specifier, context, next) {
  // Drop the `type: 'text'` attribute, which Node itself does not know.
  const resolved = await next(specifier, { ...context, importAttributes: {} });
  return isWgsl(resolved.url) ? { ...resolved, importAttributes: {}, shortCircuit: true } : resolved;
}

export async function load(url, context, next) {
  if (!isWgsl(url)) return next(url, context);
  const source = await readFile(fileURLToPath(new URL(url).href.split('?')[0]), 'utf8');
  return { format: 'module', source: `export default ${JSON.stringify(source)};`, shortCircuit: true };
}
