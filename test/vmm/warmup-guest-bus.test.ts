// The interpreter's warm-up runs one of its harts on a VM's guest-physical bus once the VMM is
// loaded (hw mode interprets a guest's virtual M-mode on such a bus), so V8 compiles execute for
// both bus classes at once. That hart must take exactly the paths it takes on a plain bus.
import { describe, expect, it } from 'vitest';
import { warmUpBus, warmUpInterpreter } from '../../src/engine/cpu/warmup';
import { MEMORY_MAP } from '../../src/engine/machine/memory-map';
import { GuestBus } from '../../src/engine/vmm/guest-bus';

describe('warm-up on a guest-physical bus', () => {
  it('is registered by the VMM and gives the same warm-up as a plain bus', () => {
    const make = warmUpBus.make;
    expect(make).toBeDefined();
    const bus = make!(MEMORY_MAP.ram.base, 10 * 4096);
    expect(bus).toBeInstanceOf(GuestBus);
    // Guest RAM offset 0 is host RAM offset 0, page by page.
    for (let page = 0; page < 10; page++) expect(bus.ramOffset(MEMORY_MAP.ram.base + page * 4096 + 8, 4)).toBe(page * 4096 + 8);
    const onGuestBus = warmUpInterpreter();
    warmUpBus.make = undefined;
    try {
      expect(onGuestBus).toEqual(warmUpInterpreter());
    } finally {
      warmUpBus.make = make;
    }
    expect(onGuestBus.ecalls).toBeGreaterThan(0);
    expect(onGuestBus.accessFaults).toBeGreaterThan(0);
  });
});
