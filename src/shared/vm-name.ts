// A VM's name: its console tab, its `.vmlab/NAME.vm.json` and `.vmlab/NAME.log`, and what `vmlab
// vms` reports. The host's request schema, the `*.vm.json` schema and the New VM form read this one
// rule, so the form says what is wrong while the name is typed instead of after Create.

/** A VM name: 1-32 letters, digits, '_', '.' and '-'. */
export const VM_NAME = /^[A-Za-z0-9_.-]{1,32}$/;

/** The rule in words, as the schemas report it. */
export const VM_NAME_RULE = 'a name of 1-32 letters, digits, _ . -';

/** Undefined for a good name; else the rule and the first character it does not allow. */
export function vmNameProblem(name: string): string | undefined {
  if (VM_NAME.test(name)) return undefined;
  const bad = [...name].find((c) => !/[A-Za-z0-9_.-]/.test(c));
  if (bad === undefined) return `${VM_NAME_RULE} (this one has ${name.length})`;
  return `${VM_NAME_RULE} (not ${bad === ' ' ? 'a space' : `'${bad}'`})`;
}
