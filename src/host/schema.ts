// Schemas for every LabApi request (docs/app.md: every request is validated before it runs). zod
// gives typed parsing and readable messages; the mapped type below makes the compiler check that
// each schema accepts exactly the shared parameter type.

import { z } from 'zod';
import { SNAPSHOT_EXTENSION, type LabMethod, type LabParams } from '../shared/lab-api';
import { DISK_SCHEMAS, vmDisks } from './disk-schema';
import { LabError } from './errors';
import { SESSION_SCHEMAS } from './session-schema';
import { cpu, INSPECT_SCHEMAS, mode } from './inspect-schema';
import { VM_NAME, VM_NAME_RULE } from '../shared/vm-name';

const none = z.strictObject({});
const path = z.string().min(1).max(4096);
const id = z.string().min(1).max(64);
const address = z.number().int().min(0).max(0xffffffff);
const bytes = z.instanceof(Uint8Array);
const space = z.enum(['physical', 'virtual', 'guest-virtual', 'guest-physical', 'host-physical']);
const frameNumber = z.number().int().min(0).max(0xfffff);
const placement = z.union([
  z.enum(['contiguous', 'scattered']),
  z.strictObject({
    explicit: z.array(z.tuple([frameNumber, frameNumber])).max(1 << 16),
    rest: z.enum(['contiguous', 'scattered']).optional(),
  }),
]);
const vm = z.strictObject({ id });

/** Largest memory block one request reads or writes. */
export const MAX_BLOCK = 1 << 20;
/** Most breakpoints one machine holds. */
export const MAX_BREAKPOINTS = 4096;

/** The schema of each request's parameters. */
export const SCHEMAS: { [M in LabMethod]: z.ZodType<LabParams<M>> } = {
  'workspace.info': none,
  'fs.list': none,
  'fs.read': z.strictObject({ path }),
  'fs.write': z.strictObject({ path, text: z.string().max(64 << 20) }),
  'fs.create': z.strictObject({ path, kind: z.enum(['file', 'dir']) }),
  'fs.rename': z.strictObject({ from: path, to: path }),
  'fs.delete': z.strictObject({ path }),
  'isa.info': none,
  'asm.check': z.strictObject({ path, text: z.string().max(16 << 20) }),
  'asm.build': z.strictObject({ path, mode: mode.optional() }),
  'asm.withoutStart': none,
  'vm.kernelInfo': z.strictObject({
    kernel: path,
    mode: mode.optional(),
    bios: path.optional(),
  }),
  'vm.create': z.strictObject({
    kernel: path,
    mode: mode.optional(),
    name: z.string().regex(VM_NAME, VM_NAME_RULE).optional(),
    memSize: z.number().int().min(1 << 20).max(1 << 30).multipleOf(4096).optional(),
    placement: placement.optional(),
    cpu: cpu.optional(),
    disks: vmDisks.optional(),
    source: path.optional(),
    bios: path.optional(),
    initrd: path.optional(),
    append: z.string().max(4096).optional(),
  }).refine((p) => p.placement === undefined || (p.mode ?? 'bare') !== 'bare', {
    path: ['placement'],
    message: 'only a VM (mode emulate or trap) has a placement',
  }).refine((p) => !p.disks?.length || (p.mode ?? 'bare') !== 'bare', {
    path: ['disks'],
    message: 'disks attach to VMs (mode emulate or trap); a bare machine takes them in vmlab run --disk',
  }),
  'vm.list': none,
  'vm.run': vm,
  'vm.pause': vm,
  'vm.step': z.strictObject({ id, count: z.number().int().min(1).max(1_000_000).optional() }),
  'vm.stepOver': vm,
  'vm.reverseStep': vm,
  'vm.reverseContinue': vm,
  'vm.runTo': z.strictObject({ id, address }),
  'vm.reset': vm,
  'vm.stop': vm,
  'vm.destroy': vm,
  'vm.input': z.strictObject({ id, data: bytes.refine((b) => b.length <= 1 << 16, 'at most 64 KiB of input at once') }),
  'vm.setBreakpoints': z.strictObject({ id, addresses: z.array(address).max(MAX_BREAKPOINTS) }),
  'vm.registers': vm,
  'vm.readMemory': z.strictObject({ id, address, length: z.number().int().min(0).max(MAX_BLOCK), space }),
  'vm.writeMemory': z.strictObject({ id, address, bytes: bytes.refine((b) => b.length <= MAX_BLOCK, 'block too large'), space }),
  'vm.translate': z.strictObject({ id, address }),
  'vm.locate': z.strictObject({ id, address, space }),
  'vm.disassemble': z.strictObject({ id, address, count: z.number().int().min(1).max(256) }),
  'vm.stats': vm,
  'snapshot.list': none,
  'vm.migrate': z.strictObject({
    id,
    to: z.string().min(1).max(64),
    live: z.boolean().optional(),
    maxRounds: z.number().int().min(1).max(1000).optional(),
    threshold: z.number().int().min(0).max(1 << 20).optional(),
    bandwidth: z.number().int().min(4096).max(2 ** 40).optional(),
  }),
  'vm.gdb': z.strictObject({ id, enabled: z.boolean(), port: z.number().int().min(0).max(65535).optional() }),
  'snapshot.save': z.strictObject({ id, name: z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/, 'a file name of 1-64 letters, digits, _ . - (not starting with .)').optional() }),
  'snapshot.restore': z.strictObject({
    path: path.refine((p) => p.toLowerCase().endsWith(SNAPSHOT_EXTENSION), `a snapshot's name ends in ${SNAPSHOT_EXTENSION}`),
    name: z.string().regex(VM_NAME, VM_NAME_RULE).optional(),
    mode: mode.optional(),
  }),
  ...DISK_SCHEMAS,
  ...INSPECT_SCHEMAS,
  ...SESSION_SCHEMAS,
};

/** Validates `params` for `method`; throws LabError('bad-request') naming every problem. */
export function validate<M extends LabMethod>(method: M, params: unknown): LabParams<M> {
  if (!Object.hasOwn(SCHEMAS, method)) throw new LabError('bad-request', `unknown method '${String(method)}'`);
  const r = SCHEMAS[method].safeParse(params);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'params'}: ${i.message}`).join('; ');
    throw new LabError('bad-request', `${method}: ${problems}`);
  }
  return r.data;
}
