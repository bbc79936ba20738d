// Helpers of the tests that drive a LabService: recording its events, and waiting for a condition.
import type { LabService } from '../../src/host/lab-service';
import type { LabEvents, MachineStatus } from '../../src/shared/lab-api';

/** Where recordEvents puts what the service sends; each sink is optional. */
export interface EventSinks {
  /** Console text by machine id. */
  consoleText?: Map<string, string>;
  /** The newest status by machine id. */
  latest?: Map<string, MachineStatus>;
  /** Every status, in order. */
  statuses?: MachineStatus[];
  /** Every statistics tick, in order. */
  ticks?: LabEvents['vm.statsTick'][];
}

/** Subscribes the sinks to the service's events; returns the unsubscribe function. */
export function recordEvents(lab: LabService, sinks: EventSinks): () => void {
  return lab.subscribe((event, payload) => {
    if (event === 'vm.console') {
      const p = payload as LabEvents['vm.console'];
      sinks.consoleText?.set(p.id, (sinks.consoleText.get(p.id) ?? '') + new TextDecoder().decode(p.data));
    } else if (event === 'vm.status') {
      const s = payload as MachineStatus;
      sinks.latest?.set(s.id, s);
      sinks.statuses?.push(s);
    } else if (event === 'vm.statsTick') {
      sinks.ticks?.push(payload as LabEvents['vm.statsTick']);
    }
  });
}

/** Polls `cond` every 20 ms until it holds; throws naming `what` after `ms`. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
