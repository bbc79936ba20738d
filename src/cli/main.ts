// The `vmlab` command line: headless runs for grading, and the tools around them.

import { Command, CommanderError } from 'commander';
import { setMachineV8Flags } from '../host/v8-flags';
import { EXIT_BAD_INPUT, ReportedError, watchStdout } from './errors';

export { EXIT_BAD_INPUT } from './errors';


type Register = (program: Command) => void;

/**
 * The commands in the order `vmlab --help` lists them, each with the top-level command names it
 * registers and a loader of its module. The modules are loaded on demand (esbuild splits each into its
 * own chunk): `vmlab run` never loads zod, the web server or the migration code, which would cost
 * every start tens of milliseconds.
 */
const COMMANDS: readonly { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ['run'], load: async () => (await import('./commands/run')).registerRun },
  { names: ['asm'], load: async () => (await import('./commands/asm')).registerAsm },
  { names: ['objdump'], load: async () => (await import('./commands/objdump')).registerObjdump },
  { names: ['serve'], load: async () => (await import('./commands/serve')).registerServe },
  { names: ['vms'], load: async () => (await import('./commands/vms')).registerVms },
  { names: ['compare'], load: async () => (await import('./commands/compare')).registerCompare },
  { names: ['disk'], load: async () => (await import('./commands/disk')).registerDisk },
  { names: ['snapshot'], load: async () => (await import('./commands/snapshot')).registerSnapshot },
  { names: ['grade'], load: async () => (await import('./commands/grade')).registerGrade },
  { names: ['migrate', 'host'], load: async () => (await import('./commands/migrate')).registerMigrate },
];

/**
 * Builds the command tree: only the command `argv` names when its first word is one (parsing and help
 * of that command need nothing else), every command otherwise (top-level help, `help`, a mistyped
 * name that commander suggests a neighbour for).
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('vmlab')
    .description('vmlab: an RV32 machine and VMM lab for operating-systems courses')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  const named = COMMANDS.find((c) => c.names.includes(argv[0] ?? ''));
  const registers = await Promise.all((named !== undefined ? [named] : COMMANDS).map((c) => c.load()));
  for (const register of registers) register(program);
  return program;
}

/** Runs the CLI with `argv` (without node and script); resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  watchStdout();
  setMachineV8Flags();
  if (argv[0] === 'run') (await import('./commands/run')).forgetStatsFile(argv);
  try {
    const program = await buildProgram(argv);
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
