// Schemas of the inspector and compare requests (docs/app.md: every request is validated before it
// runs), merged into schema.ts's table.

import { z } from 'zod';
import type { InspectMethods } from '../shared/inspect-api';
import { vmDisks } from './disk-schema';

const id = z.string().min(1).max(64);
const path = z.string().min(1).max(4096);
const address = z.number().int().min(0).max(0xffffffff);
/** A machine's mode (MACHINE_MODES). */
export const mode = z.enum(['bare', 'emulate', 'trap', 'bt', 'pv', 'hw']);

/** CPU features of vm.create and compare.run (the names of CPU_FEATURES, and jit). */
export const cpu = z.strictObject({
  pmp: z.boolean().optional(),
  h: z.boolean().optional(),
  c: z.boolean().optional(),
  a: z.boolean().optional(),
  m: z.boolean().optional(),
  xsensitive: z.boolean().optional(),
  jit: z.boolean().optional(),
});

/** Largest step budget of one compare run (each mode runs at most this many steps). */
export const MAX_COMPARE_STEPS = 500_000_000;

/** The schema of each inspector request's parameters. */
export const INSPECT_SCHEMAS: { [M in keyof InspectMethods]: z.ZodType<InspectMethods[M][0]> } = {
  'vm.pageTables': z.strictObject({ id }),
  'vm.tablePage': z.strictObject({
    id,
    table: z.string().min(1).max(128),
    // The pmap's Sv32x4 root has 4096 entries; an Sv32 root 1024 (checked against the table).
    index: z.number().int().min(0).max(4095).optional(),
  }),
  'vm.walk': z.strictObject({
    id,
    address,
    access: z.enum(['fetch', 'load', 'store']).optional(),
    priv: z.union([z.literal(0), z.literal(1), z.literal(3)]).optional(),
  }),
  'vm.tlb': z.strictObject({ id }),
  'vm.translations': z.strictObject({ id }),
  'vm.translationBlock': z.strictObject({ id, gpa: address, priv: z.union([z.literal(1), z.literal(3)]) }),
  'compare.run': z.strictObject({
    kernel: path,
    kernels: z.array(path).max(3).optional(),
    disks: vmDisks.optional(),
    memSize: z.number().int().min(1 << 20).max(256 << 20).multipleOf(4096).optional(),
    maxSteps: z.number().int().min(1000).max(MAX_COMPARE_STEPS).optional(),
    input: z.string().max(1 << 16).optional(),
    modes: z.array(mode).min(1).max(mode.options.length).refine((m) => new Set(m).size === m.length, 'each mode at most once').optional(),
    cpu: cpu.optional(),
    bios: path.optional(),
    initrd: path.optional(),
    append: z.string().max(4096).optional(),
    pvKernel: path.optional(),
  }),
  'compare.cancel': z.strictObject({}),
  'compare.state': z.strictObject({}),
};
