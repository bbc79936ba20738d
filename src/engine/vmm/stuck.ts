// The rule by which a guest counts as stuck, in a module of its own so that the bare machine's run
// loop (the CLI's) can apply it without loading the VMM.

/**
 * Steps without a retired instruction (outside WFI), over any number of slices, after which a VM
 * counts as crashed. Ten times trap mode's storm limit (trap-vcpu.ts), so that within a slice trap
 * and bt end a storm at their own exit as before, and every mode still ends one that slices cut up.
 * `vmlab run` applies it to the bare machine too.
 */
export const STUCK_STEPS = 100_000;

/** The crash reason of a guest stuck for `steps` steps at `pc`. */
export function stuckReason(steps: number, pc: number): string {
  return `no instruction completed in ${steps} steps: the guest is stuck in a loop of traps at pc 0x${(pc >>> 0).toString(16)}`;
}
