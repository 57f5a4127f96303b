// The King James Bible (public domain) from Debian's bible-kjv, one verse per line, references
// stripped. Every 20th chapter is held out, so held-out text comes from all over the book rather
// than from one part of it.
import { execFileSync } from 'node:child_process';
import { ensureDebianPackage } from './debian';

export interface TextSplits {
  train: Uint8Array;
  heldOut: Uint8Array;
}

export const HELD_OUT_EVERY = 20;

export function loadKjv(): TextSplits {
  ensureDebianPackage('bible-kjv', '/usr/bin/bible');
  const raw = execFileSync('/usr/bin/bible', ['-f', 'Gen1:1-Rev22:21'], {
    encoding: 'latin1',
    maxBuffer: 64 << 20,
    env: { ...process.env, COLUMNS: '100000' },
  });
  const train: string[] = [];
  const heldOut: string[] = [];
  let chapterIndex = -1;
  let lastChapter = '';
  for (const line of raw.split('\n')) {
    const m = /^(\S+?\d+):\d+ (.*)$/.exec(line);
    if (!m) continue;
    if (m[1] !== lastChapter) {
      lastChapter = m[1];
      chapterIndex++;
    }
    (chapterIndex % HELD_OUT_EVERY === HELD_OUT_EVERY - 1 ? heldOut : train).push(m[2]);
  }
  if (train.length < 1000) throw new Error(`kjv: only ${train.length} verses parsed; bible output format changed?`);
  const enc = (lines: string[]) => new Uint8Array(Buffer.from(`${lines.join('\n')}\n`, 'latin1'));
  return { train: enc(train), heldOut: enc(heldOut) };
}
