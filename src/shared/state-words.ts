// A machine's state in one set of words, a bare machine's as a VM's: the host keeps a bare machine's
// state as the worker sees it (exited, idle) and a VM's as the VMM does (halted, waiting), and the app
// said each as it came: the status bar read "exited with code 0" for a bare run and "halted, exit
// code 0" for a VM, the VM manager "exited" and "halted", "idle" and "waiting". The status bar, the VM
// manager and the host's reasons (a bare machine's, a VM's, a migrated VM's end) say it here.

import type { MachineStatus, VmState } from './lab-api';

/** The state's one name: a VM's own state; a bare machine that ended `halted`, one waiting for input `waiting`. */
export function stateName(s: Pick<MachineStatus, 'state' | 'vmState'>): VmState | 'error' {
  if (s.vmState !== undefined) return s.vmState;
  switch (s.state) {
    case 'exited':
      return 'halted';
    case 'idle':
      return 'waiting';
    default:
      return s.state;
  }
}

/** A guest that ended, with its exit code where it gave one: `halted, exit code 0`. */
export function haltedText(exitCode: number | undefined): string {
  return exitCode === undefined ? 'halted' : `halted, exit code ${exitCode}`;
}
