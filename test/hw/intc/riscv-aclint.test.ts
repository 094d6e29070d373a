import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  RiscvAclintMtimer, RiscvAclintSwi, TYPE_RISCV_ACLINT_MTIMER, TYPE_RISCV_ACLINT_SWI,
} from '../../../src/hw/intc/riscv-aclint.js';
import { createObject } from '../../../src/qom/index.js';
import { AddressSpace, MemoryAccessError, MemoryRegion } from '../../../src/memory/index.js';
import { MainLoop } from '../../../src/util/main-loop.js';
import { LifecycleError } from '../../../src/util/errors.js';

// The virt board's CLINT: MSWI at 0x0200_0000, MTIMER at 0x0200_4000 (mtimecmp at +0, mtime at +0x7ff8).
const MSWI = 0x0200_0000n;
const MTIMER = 0x0200_4000n;
const MTIME = MTIMER + 0x7ff8n;
const mtimecmp = (hart: number): bigint => MTIMER + BigInt(hart * 8);

function rig(numHarts = 2, timebaseFreq = 10_000_000) {
  const loop = new MainLoop();
  const timer = createObject(RiscvAclintMtimer, { numHarts, timebaseFreq });
  const swi = createObject(RiscvAclintSwi, { numHarts });
  timer.setMachineContext({ mainLoop: loop });
  swi.setMachineContext({});
  timer.realize();
  swi.realize();
  const mtip = Array.from({ length: numHarts }, () => false);
  const msip = Array.from({ length: numHarts }, () => false);
  for (let i = 0; i < numHarts; i++) {
    timer.connectGpioOut(i, (l) => (mtip[i] = l));
    swi.connectGpioOut(i, (l) => (msip[i] = l));
  }
  // As QEMU: the machine resets its devices after wiring them.
  timer.coldReset();
  swi.coldReset();
  const root = MemoryRegion.container(null, 'root', 0x1000_0000n);
  root.addSubregion(MSWI, swi.region);
  root.addSubregion(MTIMER, timer.region);
  const as = new AddressSpace(root, 'test');
  return { loop, timer, swi, as, mtip, msip, vc: loop.virtual };
}

describe('ACLINT MTIMER', () => {
  it('has the QEMU type names and the virt layout', () => {
    expect(createObject(TYPE_RISCV_ACLINT_MTIMER)).toBeInstanceOf(RiscvAclintMtimer);
    expect(createObject(TYPE_RISCV_ACLINT_SWI)).toBeInstanceOf(RiscvAclintSwi);
    const { timer, swi } = rig();
    expect(timer.region.size).toBe(0x8000n);
    expect(swi.region.size).toBe(0x4000n);
  });

  it('mtime counts the virtual clock at 10 MHz (ns / 100), through MMIO and getTime()', () => {
    const { as, vc, timer } = rig();
    expect(as.read(MTIME, 8)).toBe(0n);
    vc.advanceTo(12_345);
    expect(as.read(MTIME, 8)).toBe(123n);
    expect(timer.getTime()).toBe(123n);
    vc.advanceTo(4_000_000_000_099);
    expect(as.read(MTIME, 8)).toBe(40_000_000_000n);
    // 32-bit halves (RV32)
    expect(as.readNumber(MTIME, 4)).toBe(40_000_000_000 % 2 ** 32);
    expect(as.readNumber(MTIME + 4n, 4)).toBe(Math.floor(40_000_000_000 / 2 ** 32));
  });

  it('follows other timebase frequencies exactly (floor(ns * f / 1e9))', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000_000 }), fc.integer({ min: 0, max: 2 ** 50 }), (freq, ns) => {
        const { as, vc } = rig(1, freq);
        vc.advanceTo(ns);
        expect(as.read(MTIME, 8)).toBe((BigInt(ns) * BigInt(freq)) / 1_000_000_000n);
      }),
      { numRuns: 50 },
    );
  });

  it('after reset mtimecmp is 0 <= mtime, so MTIP is pending (as QEMU)', () => {
    const { mtip, as } = rig();
    expect(mtip).toEqual([true, true]);
    expect(as.read(mtimecmp(0), 8)).toBe(0n);
  });

  it('raises MTIP when mtime reaches mtimecmp, at the exact virtual time', () => {
    const { as, vc, mtip } = rig();
    vc.advanceTo(1_000_000); // mtime = 10000
    as.write(mtimecmp(0), 10_050n, 8);
    expect(mtip[0]).toBe(false);
    expect(mtip[1]).toBe(true); // hart 1 untouched
    vc.advanceTo(1_004_999);
    expect(mtip[0]).toBe(false);
    expect(as.read(MTIME, 8)).toBe(10_049n);
    vc.advanceTo(1_005_000);
    expect(mtip[0]).toBe(true);
    expect(as.read(MTIME, 8)).toBe(10_050n);
  });

  it('fires at now + (mtimecmp - mtime) * 100 ns for random times (riscv_aclint_mtimer_write_timecmp), never before mtime >= mtimecmp', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 1, max: 1e9 }), (start, ticks) => {
        const { as, vc, mtip, timer } = rig(1);
        vc.advanceTo(start);
        const now = timer.getTime();
        as.write(mtimecmp(0), now + BigInt(ticks), 8);
        expect(mtip[0]).toBe(false);
        const fire = start + ticks * 100;
        vc.advanceTo(fire - 1);
        expect(mtip[0]).toBe(false);
        vc.advanceTo(fire);
        expect(mtip[0]).toBe(true);
        expect(timer.getTime() >= now + BigInt(ticks)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('writes the 32-bit halves of mtimecmp (RV32) and lowers MTIP for a future value', () => {
    const { as, mtip } = rig();
    as.writeNumber(mtimecmp(1) + 4n, 0x1, 4); // hi first: 0x1_0000_0000 is in the future
    expect(mtip[1]).toBe(false);
    as.writeNumber(mtimecmp(1), 0x2345, 4);
    expect(as.read(mtimecmp(1), 8)).toBe(0x1_0000_2345n);
    expect(as.readNumber(mtimecmp(1), 4)).toBe(0x2345);
    expect(as.readNumber(mtimecmp(1) + 4n, 4)).toBe(1);
  });

  it('mtimecmp = 2^64-1 never fires', () => {
    const { as, vc, mtip, loop } = rig(1);
    as.write(mtimecmp(0), (1n << 64n) - 1n, 8);
    expect(mtip[0]).toBe(false);
    expect(loop.virtual.timers.length).toBe(0);
    vc.advanceTo(2 ** 52);
    expect(mtip[0]).toBe(false);
  });

  it('writing mtime moves the count and re-evaluates every hart', () => {
    const { as, vc, mtip } = rig();
    as.write(mtimecmp(0), 5_000n, 8);
    as.write(mtimecmp(1), 1_000_000n, 8);
    expect(mtip).toEqual([false, false]);
    vc.advanceTo(100);
    as.write(MTIME, 4_999n, 8);
    expect(as.read(MTIME, 8)).toBe(4_999n);
    vc.advanceTo(199);
    expect(mtip).toEqual([false, false]);
    vc.advanceTo(200); // one tick later mtime = 5000
    expect(mtip).toEqual([true, false]);
    as.write(MTIME, 2_000_000n, 8); // jump past hart 1's compare: raised at once
    expect(mtip).toEqual([true, true]);
    as.write(MTIME, 0n, 8); // back before both: both lowered
    expect(mtip).toEqual([false, false]);
    // 32-bit halves of mtime
    as.writeNumber(MTIME + 4n, 2, 4);
    as.writeNumber(MTIME, 7, 4);
    expect(as.read(MTIME, 8)).toBe((2n << 32n) | 7n);
  });

  it('reset clears mtime but keeps mtimecmp', () => {
    const { as, vc, timer, mtip } = rig(1);
    vc.advanceTo(1_000_000);
    as.write(mtimecmp(0), 20_000n, 8);
    timer.coldReset();
    expect(as.read(MTIME, 8)).toBe(0n);
    expect(as.read(mtimecmp(0), 8)).toBe(20_000n);
    expect(mtip[0]).toBe(false);
    vc.advanceTo(1_000_000 + 2_000_000);
    expect(mtip[0]).toBe(true);
  });

  it('refuses 1- and 2-byte accesses (valid sizes 4..8) and reads unknown offsets as 0', () => {
    const { as } = rig();
    expect(() => as.readNumber(MTIME, 1)).toThrow(MemoryAccessError);
    expect(() => as.writeNumber(mtimecmp(0), 1, 2)).toThrow(MemoryAccessError);
    expect(as.read(MTIMER + 0x1000n, 8)).toBe(0n);
  });

  it('needs a machine context with a main loop', () => {
    expect(() => createObject(RiscvAclintMtimer).realize()).toThrow(LifecycleError);
  });
});

describe('ACLINT MSWI', () => {
  it('msip bit 0 drives each hart MSIP; reads give the level; reset clears', () => {
    const { as, msip, swi } = rig(3);
    expect(msip).toEqual([false, false, false]);
    as.writeNumber(MSWI + 4n, 1, 4);
    expect(msip).toEqual([false, true, false]);
    expect([0n, 4n, 8n].map((o) => as.readNumber(MSWI + o, 4))).toEqual([0, 1, 0]);
    as.writeNumber(MSWI + 8n, 0xffff_fffe, 4); // bit 0 clear
    expect(msip[2]).toBe(false);
    as.writeNumber(MSWI, 3, 4);
    expect(msip).toEqual([true, true, false]);
    as.writeNumber(MSWI + 4n, 0, 4);
    expect(msip).toEqual([true, false, false]);
    swi.coldReset();
    expect(msip).toEqual([false, false, false]);
  });

  it('ignores harts beyond num-harts and refuses non-word accesses', () => {
    const { as, msip } = rig(1);
    as.writeNumber(MSWI + 4n, 1, 4);
    expect(msip).toEqual([false]);
    expect(as.readNumber(MSWI + 4n, 4)).toBe(0);
    expect(() => as.writeNumber(MSWI, 1, 1)).toThrow(MemoryAccessError);
    expect(() => as.read(MSWI, 8)).toThrow(MemoryAccessError);
  });

  it('the SSWI variant only sets (write 0 ignored) and reads 0', () => {
    const swi = createObject(RiscvAclintSwi, { numHarts: 1, sswi: true });
    swi.realize();
    let level = false;
    swi.connectGpioOut(0, (l) => (level = l));
    const root = MemoryRegion.container(null, 'root', 0x4000);
    root.addSubregion(0, swi.region);
    const as = new AddressSpace(root, 'a');
    as.writeNumber(0n, 1, 4);
    expect(level).toBe(true);
    as.writeNumber(0n, 0, 4);
    expect(level).toBe(true);
    expect(as.readNumber(0n, 4)).toBe(0);
  });
});
