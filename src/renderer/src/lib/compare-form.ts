// What the compare view's form holds (kernels, disk, memory, step budget, CPU, boot files, modes,
// console input), remembered in localStorage as the editor's open files are, so a reload of the
// page shows the choices the user made. A stored value of the wrong type or outside the form's
// choices falls back to its default; file choices are checked against the workspace by the view.

import { MACHINE_MODES } from '../../../shared/lab-api';

/** The step budgets the form offers. */
export const COMPARE_STEPS: readonly number[] = [1_000_000, 20_000_000, 100_000_000, 500_000_000];
/** The memory sizes the form offers, in MiB. */
export const COMPARE_MEMORY_MIB: readonly number[] = [4, 8, 16, 32, 64, 128];
/** The longest console input the form takes (its field's maxlength). */
export const COMPARE_INPUT_MAX = 65536;
/** The longest command line the form takes (its field's maxlength). */
export const COMPARE_APPEND_MAX = 4096;

/** The compare view's form. File choices are workspace paths, '' for none. */
export interface CompareForm {
  kernel: string;
  /** The kernel compared with `kernel`. */
  kernel2: string;
  /** The kernel written for pv mode, run in the pv row. */
  pvKernel: string;
  disk: string;
  mib: number;
  maxSteps: number;
  cpu: string;
  /** '', 'sbi' or a workspace file. */
  bios: string;
  initrd: string;
  append: string;
  input: string;
  /** Mode → whether it is ticked. */
  modes: Record<string, boolean>;
}

/** Where the form is remembered between loads of the page. */
const COMPARE_FORM_KEY = 'vmlab.compareForm';

/** The form as a first visit shows it ('' kernel: the view picks the traps lab's). */
export function defaultCompareForm(): CompareForm {
  return {
    kernel: '', kernel2: '', pvKernel: '', disk: '', mib: 16, maxSteps: 20_000_000, cpu: 'rv32', bios: '', initrd: '', append: '', input: '',
    // pv needs the kernel written for it, so it starts unticked.
    modes: Object.fromEntries(MACHINE_MODES.map((m) => [m, m !== 'pv'])),
  };
}

/** The form the page showed last (the defaults when there is none or storage is refused). */
export function storedCompareForm(): CompareForm {
  const form = defaultCompareForm();
  let saved: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(COMPARE_FORM_KEY) ?? 'null');
    if (typeof parsed !== 'object' || parsed === null) return form;
    saved = parsed as Record<string, unknown>;
  } catch {
    return form;
  }
  const text = (key: 'kernel' | 'kernel2' | 'pvKernel' | 'disk' | 'cpu' | 'bios' | 'initrd' | 'append' | 'input', max = 4096): void => {
    const v = saved[key];
    if (typeof v === 'string' && v.length <= max) form[key] = v;
  };
  for (const key of ['kernel', 'kernel2', 'pvKernel', 'disk', 'cpu', 'bios', 'initrd'] as const) text(key);
  text('append', COMPARE_APPEND_MAX);
  text('input', COMPARE_INPUT_MAX);
  if (COMPARE_MEMORY_MIB.includes(saved.mib as number)) form.mib = saved.mib as number;
  if (COMPARE_STEPS.includes(saved.maxSteps as number)) form.maxSteps = saved.maxSteps as number;
  const modes = saved.modes;
  if (typeof modes === 'object' && modes !== null) {
    for (const m of MACHINE_MODES) {
      const ticked = (modes as Record<string, unknown>)[m];
      if (typeof ticked === 'boolean') form.modes[m] = ticked;
    }
  }
  return form;
}

/** Remembers the form for the next load of the page. */
export function rememberCompareForm(form: CompareForm): void {
  try {
    localStorage.setItem(COMPARE_FORM_KEY, JSON.stringify(form));
  } catch {
    // Storage refused (a private window, or full): the next load shows the defaults.
  }
}
