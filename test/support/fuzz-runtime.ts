// The layout test/guests/fuzz/fuzz-runtime.S expects (its .equ lines): the robustness fuzzer and the
// fast run's random programs write their parameters and code there.
export const RAM_SIZE = 8 * 1024 * 1024;
export const RAM_BASE = 0x8000_0000;
/** Mode, paging and the registers x1..x15 the runtime loads (at +32), and its trap count (+8). */
export const PARAMS = 0x8010_0000;
/** The random instruction words. */
export const FUZZ_CODE = 0x8030_0000;
export const FUZZ_CODE_SIZE = 0x1_0000;
/** Data the registers point into. */
export const FUZZ_DATA = 0x8031_0000;
/** A page PMP locks for every mode. */
export const CANARY = 0x8040_0000;
