// The CPU model string of `vmlab run --cpu` and of the app's forms, as QEMU's `-cpu` spells it:
// `rv32,pmp=false,xsensitive=on`. One parser for the CLI, the New VM form, F5's run configuration
// and the compare view, so they accept the same features and refuse the same mistakes.

/** A CPU feature the model string can switch. */
export type CpuFeatureName = 'pmp' | 'h' | 'c' | 'a' | 'm' | 'xsensitive';

/** Every feature, in the order help texts list them, with what it is. */
export const CPU_FEATURES: readonly { readonly name: CpuFeatureName; readonly title: string }[] = [
  { name: 'pmp', title: 'physical memory protection (on by default)' },
  { name: 'h', title: 'the hypervisor extension as QEMU 7.2 has it: HS, VS and VU modes, two-stage translation (off by default)' },
  { name: 'c', title: 'compressed instructions (on by default)' },
  { name: 'a', title: 'atomic instructions (on by default)' },
  { name: 'm', title: 'multiply and divide (on by default)' },
  { name: 'xsensitive', title: "vmlab's rdpriv, setsie and touser, for the sensitive lab (off by default)" },
];

/** Features switched on or off; a feature left out keeps its default. */
export type CpuFeatureSet = Partial<Record<CpuFeatureName, boolean>>;

/** The only CPU model. */
export const CPU_MODEL = 'rv32';

const NAMES = CPU_FEATURES.map((f) => f.name) as readonly string[];
const ON = ['true', 'on', 'yes', '1'];
const OFF = ['false', 'off', 'no', '0'];

/** A CPU model string that cannot be read; the message names the part that is wrong. */
export class CpuSpecError extends Error {}

/**
 * Parses `rv32,pmp=false,h=on` into features (a bare name means on). Throws CpuSpecError naming the
 * model, an unknown property (with the known ones) or a value that is neither on nor off.
 */
export function parseCpuSpec(text: string): CpuFeatureSet {
  const [model, ...props] = text.trim().split(',').map((p) => p.trim());
  if (model !== CPU_MODEL) throw new CpuSpecError(`the only CPU model is ${CPU_MODEL}, got '${model}'`);
  const features: CpuFeatureSet = {};
  for (const prop of props) {
    const [name, value = 'true', ...extra] = prop.split('=');
    if (!NAMES.includes(name)) throw new CpuSpecError(`unknown CPU property '${name}' (known: ${NAMES.join(', ')})`);
    const on = ON.includes(value.toLowerCase());
    if (extra.length > 0 || (!on && !OFF.includes(value.toLowerCase()))) {
      throw new CpuSpecError(`CPU property ${name} takes on or off, got '${[value, ...extra].join('=')}'`);
    }
    features[name as CpuFeatureName] = on;
  }
  return features;
}

/** The model string of a feature set, features in CPU_FEATURES order: `rv32,xsensitive=on`. */
export function formatCpuSpec(features: CpuFeatureSet): string {
  const props = CPU_FEATURES.filter((f) => features[f.name] !== undefined).map((f) => `${f.name}=${features[f.name] ? 'on' : 'off'}`);
  return [CPU_MODEL, ...props].join(',');
}
