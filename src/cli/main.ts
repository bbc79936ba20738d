// The `vmlab` command line: headless runs for grading, and the tools around them.

import { Command, CommanderError } from 'commander';
import { registerAsm } from './commands/asm';
import { registerCompare } from './commands/compare';
import { registerDisk } from './commands/disk';
import { registerObjdump } from './commands/objdump';
import { registerRun } from './commands/run';
import { registerServe } from './commands/serve';
import { registerVms } from './commands/vms';

/** Exit code for bad input (usage, unreadable or malformed files). */
export const EXIT_BAD_INPUT = 2;

/** Builds the command tree. */
export function buildProgram(): Command {
  const program = new Command('vmlab')
    .description('vmlab: an RV32 machine and VMM lab for operating-systems courses')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerRun(program);
  registerAsm(program);
  registerObjdump(program);
  registerServe(program);
  registerVms(program);
  registerCompare(program);
  registerDisk(program);
  return program;
}

/** Runs the CLI with `argv` (without node and script); resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    }
    process.stderr.write(`vmlab: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_BAD_INPUT;
  }
}
