// The CLI run in-process for tests: main with argv and captured output streams.
import { main } from './main';

export async function runCli(argv: string[], signal?: AbortSignal) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    signal,
  });
  return { code, stdout, stderr };
}
