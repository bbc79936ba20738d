// The VM name rule the New VM form checks as the name is typed, and the host's schemas enforce.
import { describe, expect, it } from 'vitest';
import { VM_NAME, vmNameProblem } from '../../src/shared/vm-name';

describe('vmNameProblem', () => {
  it.each(['hello', 'paging-vm', 'a.b_c-1', 'x'.repeat(32)])('accepts %j', (name) => {
    expect(VM_NAME.test(name)).toBe(true);
    expect(vmNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['my vm', 'a name of 1-32 letters, digits, _ . - (not a space)'],
    ['vm/1', "a name of 1-32 letters, digits, _ . - (not '/')"],
    ['café', "a name of 1-32 letters, digits, _ . - (not 'é')"],
    ['x'.repeat(33), 'a name of 1-32 letters, digits, _ . - (this one has 33)'],
  ])('names what is wrong with %j', (name, problem) => {
    expect(VM_NAME.test(name)).toBe(false);
    expect(vmNameProblem(name)).toBe(problem);
  });
});
