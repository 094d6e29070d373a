/**
 * A debugger's view of the hart (QEMU riscv_csrrw_debug, riscv_cpu_get_phys_page_debug): CSRs and FP
 * registers are readable and writable whatever the privilege, mstatus.FS, counter enables or TVM, while
 * the guest's own CSR accesses keep every check; the debug translation ignores PMP on the final address.
 */
import { describe, expect, it } from 'vitest';
import { MmuAccess } from '../../../src/accel/tcg/tcg-cpu-ops.js';
import { RiscvCpu } from '../../../src/target/riscv/cpu.js';
import {
  RiscvIllegalCsr, csrCheck, csrRead, csrReadDebug, csrWrite, csrWriteDebug,
} from '../../../src/target/riscv/csr.js';
import { PRV_M, PRV_S, PRV_U, RiscvHartState } from '../../../src/target/riscv/hart-state.js';
import { riscvGetPhysAddrDebug, riscvTranslate, type RiscvPhysMemory } from '../../../src/target/riscv/mmu.js';
import { MMU_IDX_S, setPriv } from '../../../src/target/riscv/priv.js';

// CSR numbers and field positions written out from the privileged spec (independent of src)
const FCSR = 0x003, CYCLE = 0xc00, SATP = 0x180, STIMECMP = 0x14d, MSTATUS = 0x300, MSCRATCH = 0x340;
const MHARTID = 0xf14, MCOUNTEREN = 0x306, CYCLEH = 0xc80;
const FS = 0x6000n, TVM = 1n << 20n;

function hart(): RiscvHartState {
  const h = new RiscvHartState(64, { extensions: 'imafdcsu' });
  let fcsr = 0;
  h.readFcsr = () => fcsr;
  h.writeFcsr = (v) => { fcsr = v; };
  h.getInstret = () => 1234n;
  h.getTime = () => 0n;
  return h;
}

describe('debugger CSR access', () => {
  it('ignores privilege, FS, counter enables, TVM and Sstc enables; guest accesses still check them', () => {
    const h = hart();
    csrWrite(h, MSTATUS, TVM); // FS = Off, TVM set
    csrWrite(h, MSCRATCH, 0x1234n);
    expect(csrRead(h, MCOUNTEREN)).toBe(0n);
    h.priv = PRV_S;
    for (const no of [MSTATUS, MSCRATCH, FCSR, SATP, STIMECMP]) expect(() => csrRead(h, no), `guest 0x${no.toString(16)}`).toThrow(RiscvIllegalCsr);
    expect(csrReadDebug(h, MSCRATCH)).toBe(0x1234n);
    expect(csrReadDebug(h, MSTATUS) & TVM).toBe(TVM);
    expect(csrReadDebug(h, SATP)).toBe(0n);
    expect(csrReadDebug(h, STIMECMP)).toBe(h.stimecmp);
    h.priv = PRV_U;
    expect(() => csrRead(h, CYCLE)).toThrow(RiscvIllegalCsr);
    expect(csrReadDebug(h, CYCLE)).toBe(1234n);
    csrWriteDebug(h, MSCRATCH, 0x5678n);
    expect(csrReadDebug(h, MSCRATCH)).toBe(0x5678n);
    // fcsr: writable with FS off, and (as QEMU's write_fcsr) the write marks FS dirty
    csrWriteDebug(h, FCSR, 0x81n);
    expect(csrReadDebug(h, FCSR)).toBe(0x81n);
    expect(csrReadDebug(h, MSTATUS) & FS).toBe(FS);
    // the access did not change the privilege
    expect(h.priv).toBe(PRV_U);
  });

  it('still refuses CSRs the hart does not have, and writes to read-only ones', () => {
    const h = hart();
    h.priv = PRV_U;
    expect(() => csrReadDebug(h, 0x7c0)).toThrow(RiscvIllegalCsr);
    expect(() => csrReadDebug(h, CYCLEH)).toThrow(/RV32 only/);
    expect(() => csrWriteDebug(h, MHARTID, 1n)).toThrow(/read-only/);
    expect(csrCheck(h, MHARTID, false, true)).toBeNull();
    const noF = new RiscvHartState(64, { extensions: 'imacsu' });
    expect(() => csrReadDebug(noF, FCSR)).toThrow(/no F extension/);
  });
});

describe('RiscvCpu.getRegister/setRegister', () => {
  it('reads and writes CSRs and FP registers in U-mode with mstatus.FS off', () => {
    const cpu = new RiscvCpu();
    setPriv(cpu.hart, PRV_U);
    expect(cpu.getRegister('mstatus') & FS).toBe(0n);
    cpu.setRegister('mscratch', 0xdeadn);
    expect(cpu.getRegister('mscratch')).toBe(0xdeadn);
    cpu.setRegister('fa0', 0x4000_0000_0000_0000n);
    expect(cpu.getRegister('fa0')).toBe(0x4000_0000_0000_0000n);
    cpu.setRegister('frm', 3n);
    expect(cpu.getRegister('fcsr')).toBe(3n << 5n);
    expect(cpu.getRegister('cycle')).toBe(cpu.getRegister('mcycle'));
    expect(cpu.hart.priv).toBe(PRV_U);
    expect(() => cpu.getRegister('nosuchreg')).toThrow(/unknown register/);
  });
});

describe('debug translation', () => {
  const BASE = 0x8000_0000n;
  const view = new DataView(new ArrayBuffer(0x40000));
  const off = (a: bigint): number => {
    const o = a - BASE;
    if (o < 0n || o >= BigInt(view.byteLength)) throw new Error('bus error');
    return Number(o);
  };
  const mem: RiscvPhysMemory = {
    readPhys64: (a) => view.getBigUint64(off(a), true), readPhys32: (a) => view.getUint32(off(a), true),
    writePhys64: (a, v) => view.setBigUint64(off(a), v, true), writePhys32: (a, v) => view.setUint32(off(a), v, true),
  };
  /** OpenSBI's layout: entry 0 = NAPOT [0x8000_0000, +128 KiB) with no rights, entry 1 = everything RWX. */
  function pmpHart(): RiscvHartState {
    const h = hart();
    csrWrite(h, 0x3b0, (BASE >> 2n) | ((0x20000n >> 3n) - 1n));
    csrWrite(h, 0x3b1, (1n << 54n) - 1n);
    csrWrite(h, 0x3a0, (0x1fn << 8n) | 0x18n); // cfg0 = NAPOT ---, cfg1 = NAPOT RWX
    return h;
  }

  it('bare: gives the address an S-mode load may not touch', () => {
    const h = pmpHart();
    setPriv(h, PRV_S);
    expect(riscvTranslate(h, mem, BASE + 0x10n, MmuAccess.LOAD, MMU_IDX_S)).toEqual({ ok: false, fault: 'access' });
    expect(riscvGetPhysAddrDebug(h, mem, BASE + 0x10n, MMU_IDX_S)).toBe(BASE + 0x10n);
    expect(riscvGetPhysAddrDebug(h, mem, BASE + 0x30010n, MMU_IDX_S)).toBe(BASE + 0x30010n);
  });

  it('Sv39: maps to PMP-protected memory; page-table reads stay PMP-checked (as QEMU)', () => {
    const h = pmpHart();
    // root table at +0x30000 (S may read it): VPN[2] = 0 → 1 GiB leaf at 0x8000_0000, RWX A D
    const root = BASE + 0x30000n;
    mem.writePhys64(root, ((BASE >> 12n) << 10n) | 0xcfn);
    csrWrite(h, SATP, (8n << 60n) | (root >> 12n));
    setPriv(h, PRV_S);
    expect(riscvTranslate(h, mem, 0x20n, MmuAccess.LOAD, MMU_IDX_S)).toEqual({ ok: false, fault: 'access' });
    expect(riscvGetPhysAddrDebug(h, mem, 0x20n, MMU_IDX_S)).toBe(BASE + 0x20n);
    // the same table inside the protected region: the walk itself is refused
    const hidden = BASE + 0x1000n;
    mem.writePhys64(hidden, ((BASE >> 12n) << 10n) | 0xcfn);
    setPriv(h, PRV_M);
    csrWrite(h, SATP, (8n << 60n) | (hidden >> 12n));
    setPriv(h, PRV_S);
    expect(riscvGetPhysAddrDebug(h, mem, 0x20n, MMU_IDX_S)).toBeNull();
  });
});
