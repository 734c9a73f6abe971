/**
 * Runs one command line and returns the exit code. Expected failures are
 * printed as one line ("syncstate: ..."), unexpected ones with their stack.
 */
import { CommanderError } from 'commander';
import type { CommandIo } from './commands/io.js';
import { describeError } from './describe-error.js';
import { ExitCode } from './exit-codes.js';
import { buildProgram } from './program.js';

/** Ctrl-C while a command other than serve/watch runs. */
export const INTERRUPTED = 130;

export async function run(args: readonly string[], io: CommandIo): Promise<number> {
  const program = buildProgram(io);
  if (args.length === 0) {
    program.outputHelp({ error: true });
    return ExitCode.usage;
  }
  try {
    await program.parseAsync([...args], { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end through here too, with exit code 0; commander already printed its message.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    if (io.signal?.aborted === true && err === io.signal.reason) return INTERRUPTED;
    const { message, exitCode, stack } = describeError(err);
    io.err.write(`syncstate: ${message}\n`);
    if (stack !== undefined) io.err.write(`${stack}\n`);
    return exitCode;
  }
}
