// The `vmlab` command line: headless runs for grading, and the tools around them.

import { Command, CommanderError } from 'commander';
import { registerAsm } from './commands/asm';
import { registerCompare } from './commands/compare';
import { registerDisk } from './commands/disk';
import { registerGrade } from './commands/grade';
import { registerMigrate } from './commands/migrate';
import { registerObjdump } from './commands/objdump';
import { forgetStatsFile, registerRun } from './commands/run';
import { registerServe } from './commands/serve';
import { registerSnapshot } from './commands/snapshot';
import { registerVms } from './commands/vms';
import { EXIT_BAD_INPUT, ReportedError, watchStdout } from './errors';

export { EXIT_BAD_INPUT } from './errors';


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
  registerSnapshot(program);
  registerGrade(program);
  registerMigrate(program);
  return program;
}

/** Runs the CLI with `argv` (without node and script); resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  watchStdout();
  forgetStatsFile(argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    }
    if (err instanceof ReportedError) return err.exitCode;
    process.stderr.write(`vmlab: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_BAD_INPUT;
  }
}
