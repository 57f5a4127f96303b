// Installs a Debian package when a file it provides is missing, so the training scripts fetch their
// own data on a fresh machine (`apt-get update` first, as the package lists may be empty).
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function ensureDebianPackage(pkg: string, providedFile: string): void {
  if (existsSync(providedFile)) return;
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  console.error(`installing Debian package ${pkg} (for ${providedFile})`);
  execSync(`${sudo}apt-get update -qq && ${sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkg}`, {
    stdio: 'inherit',
  });
  if (!existsSync(providedFile)) throw new Error(`${pkg} installed but ${providedFile} is still missing`);
}
