// Para-virtualization (`pv`): the guest kernel runs deprivileged in U-mode on the physical hart, as
// in trap mode (this vCPU extends TrapVcpu), but it is written to ask the VMM instead of executing
// what would not trap or would trap expensively: vmlab's PV extension of the SBI (pv-abi.ts). Its
// page tables are read-only to it and change only through validated mmu_update batches (pv-tables.ts),
// so the VMM never takes a write-protection fault or resynchronises a shadow after a guest store: it
// is told of every change and drops exactly the translations derived from the changed entries. A
// guest store to a table page is refused (a store page fault for the guest), and so is a csrw to
// satp (set_root installs a root). Every other SBI call goes to the SBI all modes share
// (machine/sbi.ts); a pv VM always boots as under `--bios sbi`. Model: Xen's direct paging and
// hypercalls (Barham et al., SOSP 2003, §2.1 and §3.3.2).

import { CsrOp, Priv } from '../../cpu/hart';
import { Mstatus } from '../../cpu/csr-defs';
import { decodeAny, decodeWord, EXPAND_C } from '../../isa/decode';
import { Op } from '../../isa/opcodes';
import { SbiError, type SbiExtension } from '../../machine/sbi';
import { Cause } from '../../mmu/walk';
import { TrapVcpu } from '../trap/trap-vcpu';
import type { Vm } from '../vm';
import type { Vmm } from '../vmm';
import { PV_EID, PV_FEATURES, PV_FUNCTION_NAMES, PV_MAX_BATCH, PV_MAX_SECTORS, PvFn } from './pv-abi';
import { PvTables } from './pv-tables';

const A0 = 10;
const A1 = 11;
const A2 = 12;
const A3 = 13;
const CSR_SATP = 0x180;
const SECTOR = 512;

/** The pv-mode vCPU of one VM. */
export class PvVcpu extends TrapVcpu implements SbiExtension {
  readonly eid = PV_EID;
  /** The guest's registered page-table pages. */
  readonly tables: PvTables;
  /** A page stopped being a table page since the shadows were last emptied (they map it read-only). */
  private released = false;

  constructor(vm: Vm, vmm: Vmm) {
    super(vm, vmm);
    const sbi = vm.machine.sbi;
    if (sbi === undefined) throw new Error('a pv VM boots with the VMM\'s SBI');
    sbi.extension = this;
    const bus = vm.bus;
    this.tables = new PvTables({
      isRamPage: (gpn) => vm.pmap.lookup(gpn * 4096) >= 0,
      read32: (gpa) => bus.load(gpa, 4),
      write32: (gpa, value) => bus.store(gpa, 4, value),
    }, Math.floor(bus.ramBase / 4096));
  }

  name(fid: number): string {
    return `pv.${PV_FUNCTION_NAMES[fid] ?? 'unknown'}`;
  }

  /** One hypercall (SbiExtension): x holds the guest's registers as the physical hart has them. */
  call(fid: number, x: Int32Array): boolean {
    let err: number = SbiError.SUCCESS;
    let value = 0;
    const a0 = x[A0] >>> 0;
    const a1 = x[A1] >>> 0;
    switch (fid) {
      case PvFn.FEATURES:
        value = PV_FEATURES;
        break;
      case PvFn.SET_ROOT:
        err = this.setRoot(a0);
        break;
      case PvFn.MMU_UPDATE:
        [err, value] = this.mmuUpdate(a0, a1);
        break;
      case PvFn.FLUSH:
        // The shadows already follow every change (each mmu_update dropped the translations derived
        // from the entries it changed), so, as Xen's TLB flush, only the hart's TLB needs emptying;
        // unless a page stopped being a table page since, which the shadows still map read-only.
        if (this.released) {
          this.shadows.flush();
          this.released = false;
        }
        this.p.tlb.flushAll();
        break;
      case PvFn.CSR_READ:
        [err, value] = this.csr(a0, CsrOp.SET, 0, false);
        break;
      case PvFn.CSR_WRITE:
        if (a0 === CSR_SATP) err = this.refuse(SbiError.DENIED, 'satp changes through set_root');
        else [err, value] = this.csr(a0, CsrOp.WRITE, a1, true);
        break;
      case PvFn.SET_IRQ: {
        const vh = this.vh;
        value = (vh.mstatus & Mstatus.SIE) !== 0 ? 1 : 0;
        vh.writeMstatus((a0 & 1) !== 0 ? vh.mstatus | Mstatus.SIE : vh.mstatus & ~Mstatus.SIE);
        break;
      }
      case PvFn.RETURN_TO_USER:
        // touser's job, told to the VMM: the guest's virtual privilege becomes U at pc.
        this.vh.priv = Priv.U;
        this.vh.pc = a0 | 0;
        this.vh.contextChanged();
        return false;
      case PvFn.BLK_RW:
        err = this.blockTransfer(a0, a1, x[A2] >>> 0, x[A3] >>> 0);
        break;
      default:
        err = this.refuse(SbiError.NOT_SUPPORTED, `no PV function ${fid}`);
    }
    x[A0] = err;
    x[A1] = value | 0;
    return true;
  }

  private refuse(err: number, reason: string): number {
    this.vm.stats.pvRefused++;
    this.refusal = reason;
    return err;
  }

  /** Why the last refused hypercall was refused (the monitor and tests show it). */
  refusal = '';

  private setRoot(satp: number): number {
    if (satp >>> 31 === 0) {
      if (satp !== 0) return this.refuse(SbiError.INVALID_PARAM, 'satp with paging off must be 0');
    } else {
      const err = this.tables.installRoot(satp & 0x3fffff);
      if (err !== SbiError.SUCCESS) return this.refuse(err, this.tables.reason);
      this.tablesChanged();
    }
    this.vh.writeSatp(satp);
    this.applyContext();
    return SbiError.SUCCESS;
  }

  private mmuUpdate(batch: number, count: number): [number, number] {
    if (count === 0 || count > PV_MAX_BATCH) return [this.refuse(SbiError.INVALID_PARAM, `a batch holds 1 to ${PV_MAX_BATCH} updates, not ${count}`), 0];
    if ((batch & 3) !== 0) return [this.refuse(SbiError.INVALID_PARAM, 'the batch must be 4-byte aligned'), 0];
    const bus = this.vm.bus;
    if (!this.vm.machine.board.dma.isRam(batch, count * 8)) return [this.refuse(SbiError.INVALID_ADDRESS, 'the batch is not in the VM\'s RAM'), 0];
    const pairs = new Int32Array(count * 2);
    for (let i = 0; i < pairs.length; i++) pairs[i] = bus.load(batch + 4 * i, 4);
    const err = this.tables.update(pairs);
    if (err !== SbiError.SUCCESS) return [this.refuse(err, this.tables.reason), 0];
    this.vm.stats.pvPteUpdates += count;
    this.tablesChanged();
    // The VMM knows which entries changed: only translations derived from them go.
    for (let i = 0; i < pairs.length; i += 2) {
      if (!this.shadows.syncTableWrite(pairs[i] >>> 0, 4)) this.shadows.flush();
    }
    this.p.tlb.flushAll();
    this.applyContext();
    return [SbiError.SUCCESS, count];
  }

  /**
   * Pages that became or stopped being table pages: read-only in the shadows, or writable again. A
   * new table page loses write permission in exactly the shadow entries that map it writable (the
   * shadows' reverse map, as trap mode does on a walk); the other translations stay.
   */
  private tablesChanged(): void {
    let changed = false;
    for (const gpn of this.tables.changed) {
      if (this.tables.isTable(gpn)) {
        if (this.shadows.noteTablePage(gpn)) changed = this.protectTablePage(gpn, false) || changed;
      } else if (this.shadows.tablePages.delete(gpn)) {
        this.released = true;
      }
    }
    if (changed) this.p.tlb.flushAll();
  }

  /** A virtual S-mode CSR (a user counter may be read too); M-mode CSRs are not the guest's. */
  private csr(num: number, op: CsrOp, value: number, write: boolean): [number, number] {
    const level = (num >>> 8) & 3;
    if (num > 0xfff || (level !== 1 && !(level === 0 && !write && num >= 0xc00))) {
      return [this.refuse(SbiError.INVALID_PARAM, `CSR 0x${num.toString(16)} is no supervisor CSR`), 0];
    }
    const vh = this.vh;
    const old = vh.csrAccess(num, op, value, write);
    if (vh.fault !== 0) {
      vh.fault = 0;
      return [this.refuse(SbiError.INVALID_PARAM, `CSR 0x${num.toString(16)} cannot be ${write ? 'written' : 'read'}`), 0];
    }
    if (write) this.applyContext();
    return [SbiError.SUCCESS, old];
  }

  /** blk_rw: `count` sectors between the VM's first disk at `sector` and guest RAM at `gpa`. */
  private blockTransfer(sector: number, gpa: number, count: number, write: number): number {
    const disk = this.vm.machine.board.disks[0]?.disk;
    if (disk === undefined) return this.refuse(SbiError.NOT_SUPPORTED, 'the VM has no disk');
    if (count === 0 || count > PV_MAX_SECTORS) return this.refuse(SbiError.INVALID_PARAM, `a transfer moves 1 to ${PV_MAX_SECTORS} sectors, not ${count}`);
    if (sector + count > disk.size / SECTOR) return this.refuse(SbiError.INVALID_PARAM, `sectors ${sector}..${sector + count - 1} lie beyond the disk's ${disk.size / SECTOR}`);
    const dma = this.vm.machine.board.dma;
    const length = count * SECTOR;
    if (gpa + length > 0x1_0000_0000 || !dma.isRam(gpa, length)) return this.refuse(SbiError.INVALID_ADDRESS, 'the buffer is not in the VM\'s RAM');
    if (write === 0) {
      for (let page = Math.floor(gpa / 4096); page * 4096 < gpa + length; page++) {
        if (this.tables.isTable(page)) return this.refuse(SbiError.DENIED, `the buffer covers page-table page 0x${page.toString(16)}000`);
      }
    } else if (disk.readOnly) {
      return this.refuse(SbiError.DENIED, 'the disk is read-only');
    }
    const buf = new Uint8Array(length);
    try {
      if (write !== 0) {
        dma.read(gpa, buf);
        disk.write(sector * SECTOR, buf);
      } else {
        disk.read(sector * SECTOR, buf);
        dma.write(gpa, buf);
      }
    } catch (e) {
      return this.refuse(SbiError.FAILED, (e as Error).message);
    }
    this.vm.stats.deviceAccesses++;
    return SbiError.SUCCESS;
  }

  /** A csrw to satp would bypass set_root's validation: the guest gets an illegal instruction. */
  protected override emulate(bits: number): void {
    const d = decodeAny(bits);
    if (d.def !== undefined) {
      const w = d.size === 2 ? EXPAND_C[bits & 0xffff] : bits;
      const id = d.size === 2 ? decodeWord(w >>> 0) : d.def.id;
      const csrOp = id === Op.CSRRW || id === Op.CSRRWI || ((id === Op.CSRRS || id === Op.CSRRC || id === Op.CSRRSI || id === Op.CSRRCI) && ((w >>> 15) & 31) !== 0);
      if (csrOp && w >>> 20 === CSR_SATP) {
        this.vm.stats.pvRefused++;
        this.refusal = 'csrw satp: a pv guest installs roots with set_root';
        return this.reflect(Cause.ILLEGAL, bits);
      }
    }
    super.emulate(bits);
  }

  /** A guest store to one of its table pages: refused, the guest sees a store page fault. */
  protected override tableWrite(va: number, gpa: number): void {
    if (!this.tables.isTable(Math.floor(gpa / 4096))) return super.tableWrite(va, gpa);
    this.vm.stats.pvRefused++;
    this.refusal = `store to page-table page 0x${gpa.toString(16)}: use mmu_update`;
    this.reflect(Cause.STORE_PAGE, va);
  }

  /** Device DMA into a table page would change it behind the validation: the VM crashes. */
  override dmaWritten(gpa: number, hostOffset: number, length: number): void {
    if (length > 0 && this.tables.isTable(Math.floor(gpa / 4096))) {
      this.crash(`a device wrote page-table page 0x${gpa.toString(16)} by DMA: a pv guest moves disk data with blk_rw`);
    }
    super.dmaWritten(gpa, hostOffset, length);
  }

  override reset(): void {
    super.reset();
    this.tables.clear();
  }
}
