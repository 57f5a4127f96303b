// The CLI's error kinds and the exit code each maps to. Every error reaches the user as one line
// ("error: …"); the stack only with --debug.
import { RecipeError } from '../engine/pruning/catalogue';

/** Bad command line: exit 2 (as is the catalogue's RecipeError). */
export class UsageError extends Error {}

/** A problem with the user's files or the job (missing checkpoint, corrupt data…): exit 1. */
export class CliError extends Error {}

/** Ctrl-C aborts the run's signal and exits 130, as shells report SIGINT. */
export const EXIT = { ok: 0, runtime: 1, usage: 2, interrupted: 130 } as const;

export function exitCode(e: unknown, signal?: AbortSignal): number {
  // The catalogue's refusal of a recipe the model cannot honour is a bad command line too.
  if (e instanceof UsageError || e instanceof RecipeError) return EXIT.usage;
  if (signal?.aborted) return EXIT.interrupted;
  return EXIT.runtime;
}

/** One line: the message without a stack, newlines folded. */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message || e.name : String(e);
  return msg.replace(/\s*\n\s*/g, ' ').trim();
}
