// The other client of the attack tests: a VM that never stops computing and echoes its console,
// run by a well-behaved client. probe() checks that it still runs (its instruction count grew)
// and still answers (a fresh marker typed into its console comes back).
import { expect } from 'vitest';
import type { MachineStatus } from '../../src/shared/lab-api';
import { until } from '../support/lab';
import { ApiClient, type ServerProcess } from './server-process';

/** Workspace path of the victim's kernel. */
export const VICTIM_KERNEL = 'victim.S';

/** A guest that counts in s1 for ever and, every 256 counts, echoes a byte the UART received. */
export const VICTIM_SOURCE = `
        .equ UART, 0x10000000       # ns16550a: RBR/THR at +0, LSR at +5
        .text
        .globl _start
_start:
        li      s0, UART
loop:
        addi    s1, s1, 1
        andi    t0, s1, 255
        bnez    t0, loop
        lbu     t1, 5(s0)
        andi    t1, t1, 1           # LSR.DR: a byte is waiting
        beqz    t1, loop
        lbu     a0, 0(s0)
1:      lbu     t1, 5(s0)
        andi    t1, t1, 0x20        # LSR.THRE: the transmitter takes a byte
        beqz    t1, 1b
        sb      a0, 0(s0)
        j       loop
`;

/** The victim: its client, its VM and the liveness probe. */
export interface Victim {
  readonly client: ApiClient;
  readonly id: string;
  /** Throws unless the VM is running, has retired more instructions than at the last probe, and echoes. */
  probe(): Promise<void>;
}

/** Connects a second client and starts the victim VM in `mode`. */
export async function startVictim(server: ServerProcess, mode: 'emulate' | 'trap' = 'trap'): Promise<Victim> {
  const client = await ApiClient.connect(server);
  const vm = await client.call<MachineStatus>('vm.create', { kernel: VICTIM_KERNEL, mode, name: 'victim' });
  await client.call('vm.run', { id: vm.id });
  let instret = -1;
  let marker = 0;
  return {
    client,
    id: vm.id,
    async probe() {
      const text = `<${++marker}>`;
      await client.call('vm.input', { id: vm.id, data: new TextEncoder().encode(text) });
      await until(`the victim VM to echo ${text}`, () => (client.console.get(vm.id) ?? '').includes(text), 30_000);
      // vm.list reports a running VM's count as of its last status tick (about one a second).
      let me: MachineStatus | undefined;
      await until(`the victim VM to retire more than ${instret} instructions`, async () => {
        me = (await client.call<MachineStatus[]>('vm.list', {})).find((m) => m.id === vm.id);
        return me?.state !== 'running' || me.instret > instret;
      }, 30_000);
      expect(me?.state, 'victim state').toBe('running');
      instret = me!.instret;
    },
  };
}
