// Command-line front end of the pruning engine:
//   npm run -s cli -- <prune|sweep|eval|export|predict> [options]      (npm run cli -- --help)
// main() takes argv and streams, so tests drive it in-process; run directly, it wires up the
// process's streams, Ctrl-C (aborts the running job) and the exit code.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCommand } from './args';
import { HELP, USAGE } from './help';
import { COMMANDS, type Command } from './options';
import { isAbortError } from '../engine/abort';
import { useWasm } from '../engine/backends/node-wasm';
import { runEval, runExport, runPredict, runPrune, runSweep, type Context, type OutStream } from './commands';
import { EXIT, exitCode, oneLine, UsageError } from './errors';
import { Progress, type ErrStream } from './progress';

export interface CliIo {
  stdout: OutStream;
  stderr: ErrStream;
  /** Aborts the running job (Ctrl-C). */
  signal?: AbortSignal;
  /** Prepares TensorFlow.js; default: the WASM backend. */
  setupBackend?: () => Promise<void>;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const signal = io.signal ?? new AbortController().signal;
  let debug = argv.includes('--debug');
  try {
    const [cmd, ...rest] = argv;
    if (cmd === undefined) {
      io.stderr.write(USAGE);
      return EXIT.usage;
    }
    if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
      const topic = rest[0];
      if (cmd === 'help' && topic !== undefined) {
        if (!(COMMANDS as readonly string[]).includes(topic))
          throw new UsageError(`unknown command "${topic}" (commands: ${COMMANDS.join(', ')})`);
        io.stdout.write(HELP[topic as Command]);
      } else {
        io.stdout.write(USAGE);
      }
      return EXIT.ok;
    }
    if (!(COMMANDS as readonly string[]).includes(cmd)) {
      const hint = cmd.startsWith('-') ? 'a command comes first' : `commands: ${COMMANDS.join(', ')}`;
      throw new UsageError(`unknown command "${cmd}" (${hint}; see --help)`);
    }
    const parsed = parseCommand(cmd as Command, rest);
    debug = parsed.debug;
    if (parsed.help) {
      io.stdout.write(HELP[parsed.command]);
      return EXIT.ok;
    }
    await (io.setupBackend ?? useWasm)();
    const ctx: Context = {
      stdout: io.stdout,
      stderr: io.stderr,
      signal,
      progress: new Progress(io.stderr, !parsed.quiet),
    };
    try {
      switch (parsed.command) {
        case 'prune':
          await runPrune(parsed, ctx);
          break;
        case 'sweep':
          await runSweep(parsed, ctx);
          break;
        case 'eval':
          await runEval(parsed, ctx);
          break;
        case 'export':
          await runExport(parsed, ctx);
          break;
        case 'predict':
          await runPredict(parsed, ctx);
          break;
      }
    } finally {
      ctx.progress.done();
    }
    return EXIT.ok;
  } catch (e) {
    const code = exitCode(e, signal);
    const message = code === EXIT.interrupted ? `interrupted${isAbortError(e) ? '' : ` (${oneLine(e)})`}` : oneLine(e);
    io.stderr.write(`error: ${message}\n`);
    if (debug && e instanceof Error && e.stack) io.stderr.write(`${e.stack}\n`);
    return code;
  }
}

function invokedDirectly(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  const ctrl = new AbortController();
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(EXIT.interrupted);
    interrupted = true;
    process.stderr.write('\nstopping… (Ctrl-C again to quit at once)\n');
    ctrl.abort();
  });
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: ctrl.signal }).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`error: ${oneLine(e)}\n`);
      process.exit(EXIT.runtime);
    },
  );
}
