// The lab session's part of the LabApi: what a page needs to rebuild itself from the host after a
// reload (a console's scrollback). The host keeps every machine, its state and its console; the page
// only shows them. Merged into LabMethods by lab-api.ts.

/** Bytes the host keeps of each machine's console (the newest ones; older output is dropped). */
export const CONSOLE_LOG_BYTES = 1 << 20;

/** A console's retained output: the newest bytes, ending at byte `end` of everything it printed. */
export interface ConsoleLogInfo {
  /** At most CONSOLE_LOG_BYTES bytes: the console's output from byte `end - data.length` on. */
  readonly data: Uint8Array;
  /** Bytes the console has printed in all (since the machine was created, or restored). */
  readonly end: number;
}

/** The line map and symbols of the program a machine runs, as its build made them (empty when unknown). */
export interface ProgramInfo {
  readonly lineMap: { readonly address: number; readonly file: string; readonly line: number }[];
  readonly symbols: { readonly name: string; readonly address: number }[];
}

/** The session's requests: method name → [params, result]. */
export interface SessionMethods {
  /** A machine's console as the host kept it, for a page that (re)attaches. */
  'vm.consoleLog': [{ id: string }, ConsoleLogInfo];
  /**
   * The line map and symbols of the build a machine was made from (a `.S` kernel, or the ELF of an
   * asm.build): right even when the source was edited since.
   */
  'vm.program': [{ id: string }, ProgramInfo];
}

/** The session's method names. */
export const SESSION_METHODS: readonly (keyof SessionMethods)[] = ['vm.consoleLog', 'vm.program'];
