// The compare form as a reload reads it back from localStorage (src/renderer/src/lib/compare-form.ts):
// what was remembered comes back field by field, and a stored value of the wrong type, outside the
// form's choices, or no JSON at all gives that field's default; refused storage gives the defaults.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultCompareForm, rememberCompareForm, storedCompareForm } from '../../src/renderer/src/lib/compare-form';

/** A localStorage of one page. */
function fakeStorage(): Map<string, string> {
  const items = new Map<string, string>();
  vi.stubGlobal('localStorage', {
    getItem: (k: string) => items.get(k) ?? null,
    setItem: (k: string, v: string) => void items.set(k, v),
  });
  return items;
}

afterEach(() => vi.unstubAllGlobals());

describe('the compare form in localStorage', () => {
  it('comes back as it was remembered', () => {
    fakeStorage();
    const form = { ...defaultCompareForm(), kernel: 'paging/paging.S', kernel2: 'traps/traps.S', disk: 'd.img', mib: 64, maxSteps: 1_000_000, cpu: 'rv32,c=off', bios: 'sbi', append: 'quiet', input: 'a\nb' };
    form.modes = { ...form.modes, emulate: false, pv: true };
    rememberCompareForm(form);
    expect(storedCompareForm()).toEqual(form);
  });

  it('gives each field of the wrong type or outside the choices its default', () => {
    const items = fakeStorage();
    items.set('vmlab.compareForm', JSON.stringify({ kernel: 7, disk: 'd.img', mib: 3, maxSteps: '20000000', cpu: null, input: 'x'.repeat(70_000), modes: { bare: 'yes', pv: true, nosuch: true } }));
    const expected = { ...defaultCompareForm(), disk: 'd.img' };
    expected.modes = { ...expected.modes, pv: true };
    expect(storedCompareForm()).toEqual(expected);
    for (const text of ['{"kernel"', '[1, 2]', '"text"', 'null']) {
      items.set('vmlab.compareForm', text);
      expect(storedCompareForm()).toEqual(defaultCompareForm());
    }
  });

  it('gives the defaults when storage is refused, and remembering then changes nothing', () => {
    vi.stubGlobal('localStorage', {
      getItem: () => { throw new Error('SecurityError'); },
      setItem: () => { throw new Error('QuotaExceededError'); },
    });
    expect(storedCompareForm()).toEqual(defaultCompareForm());
    expect(() => rememberCompareForm(defaultCompareForm())).not.toThrow();
  });
});
