/**
 * Machine snapshots: snapshot, run K, restore, run K again gives the same continuation (output,
 * registers, icount, virtual time, RAM, every device's state), in the same machine and in a new one
 * (through the binary format too); what a restore checks; determinism of a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot } from '../../src/migration/format.js';
import { SnapshotError, type MachineSnapshot } from '../../src/migration/snapshot.js';
import { VmStateError } from '../../src/migration/vmstate.js';
import { bootGuest, hashBytes, observe, runSteps, withoutRam, type RunStep } from './helpers.js';
import { addi, code, j, lui, sb, sw, X } from '../machine/rv-asm.js';
import { createVirtMachine } from '../../src/hw/riscv/virt.js';

const step: fc.Arbitrary<RunStep> = fc.oneof(
  fc.integer({ min: 0, max: 12_000 }).map((n) => ({ instructions: n })),
  fc.integer({ min: 1, max: 40_000 }).map((ns) => ({ for: ns })),
);

describe('snapshot / restore', () => {
  it('continues bit-identically after a restore, in the same machine and in a new one', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 30_000 }), fc.array(step, { minLength: 1, maxLength: 4 }), fc.boolean(),
      (before, steps, viaBytes) => {
        const m = bootGuest();
        m.run({ instructions: before });
        const snap = m.snapshot();
        const out0 = m.serial.output.length;
        const reasons = runSteps(m, steps);
        const original = observe(m, out0);

        m.restore(snap);
        const out1 = m.serial.output.length;
        expect(runSteps(m, steps)).toEqual(reasons);
        expect(observe(m, out1)).toEqual(original);

        const fresh = bootGuest();
        fresh.run({ instructions: 777 }); // a machine elsewhere in its own run: the restore replaces it all
        const out2 = fresh.serial.output.length;
        fresh.restore(viaBytes ? decodeSnapshot(encodeSnapshot(snap)) : snap);
        expect(runSteps(fresh, steps)).toEqual(reasons);
        expect(observe(fresh, out2)).toEqual(original);
      }), { numRuns: 10 });
  });

  it('continues identically with two harts', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 20_000 }), fc.array(step, { minLength: 1, maxLength: 3 }), (before, steps) => {
      // Both harts run the guest (hart 1's MTIP is always high: it keeps taking timer interrupts).
      const m = bootGuest({ cpus: 2 });
      m.run({ instructions: before });
      const snap = m.snapshot();
      expect(snap.cpus.map((c) => c.path)).toEqual(['/machine/soc/hart0', '/machine/soc/hart1']);
      const out0 = m.serial.output.length;
      const reasons = runSteps(m, steps);
      const original = { ...observe(m, out0), hart1: m.getRegister('pc', 1), hart1a2: m.getRegister('a2', 1) };
      const fresh = bootGuest({ cpus: 2 });
      fresh.restore(snap);
      expect(runSteps(fresh, steps)).toEqual(reasons);
      expect({ ...observe(fresh, 0), hart1: fresh.getRegister('pc', 1), hart1a2: fresh.getRegister('a2', 1) }).toEqual(original);
    }), { numRuns: 5 });
  });

  it('has interrupts and output to restore in the continuation (the property above is not vacuous)', () => {
    const m = bootGuest();
    m.run({ instructions: 20_000 });
    const snap = m.snapshot();
    expect(snap.timers.map((t) => t.id).sort()).toEqual(['/machine/soc/hart0/stimer', '/machine/soc/mtimer:timers[0]']);
    const out0 = m.serial.output.length;
    m.run({ instructions: 20_000 });
    const out = m.serial.output.slice(out0);
    expect(out).toMatch(/!/);
    expect(out).toMatch(/#/);
    expect(out).toMatch(/[a-p]/);
    // A restore actually rewinds: RAM, registers and time go back.
    const after = observe(m, 0);
    m.restore(snap);
    expect(m.instructions).toBe(20_000);
    expect(m.virtualTimeNs).toBe(snap.clock.virtualNs);
    expect(observe(m, 0)).not.toEqual(after);
  });

  it('restores the timer list in firing order, equal deadlines in arming order', () => {
    const m = bootGuest();
    m.run({ instructions: 5000 });
    const vc = m.mainLoop.virtual;
    // Two timers with one deadline, armed in a known order, named so the snapshot can find them.
    const fired: string[] = [];
    const t1 = vc.timerNew(() => fired.push('t1'), null);
    const t2 = vc.timerNew(() => fired.push('t2'), null);
    t1.id = 'test/t1';
    t2.id = 'test/t2';
    const at = vc.now() + 1000;
    t2.modNs(at);
    t1.modNs(at);
    const snap = m.snapshot();
    const ids = snap.timers.map((t) => t.id);
    expect(ids.indexOf('test/t2')).toBeLessThan(ids.indexOf('test/t1'));
    m.run({ for: 2000 });
    expect(fired).toEqual(['t2', 't1']);
    fired.length = 0;
    m.restore(snap);
    expect(vc.timers.snapshot().map((t) => t.expireNs)).toEqual(snap.timers.map((t) => t.expireNs));
    m.run({ for: 2000 });
    expect(fired).toEqual(['t2', 't1']);
  });

  it('re-drives IRQ lines without disturbing the interrupt controller (a claimed, still-high source)', () => {
    const UART = 0x10000000n, PLIC = 0x0c000000n, MEIP = 1n << 11n;
    const setup = (m: ReturnType<typeof bootGuest>): void => {
      const as = m.addressSpace;
      as.write(PLIC + 4n * 10n, 1n, 4); // priority of source 10 (the UART)
      as.write(PLIC + 0x2000n, 1n << 10n, 4); // enabled for context 0 (hart 0, M)
      as.write(UART + 1n, 2n, 1); // IER.THRI: THR is empty, so the UART's line goes high
    };
    const m = bootGuest();
    setup(m);
    expect(m.getRegister('mip') & MEIP).toBe(MEIP);
    expect(m.addressSpace.read(PLIC + 0x200004n, 4)).toBe(10n); // claim: pending cleared, line still high
    expect(m.getRegister('mip') & MEIP).toBe(0n);
    const snap = m.snapshot();
    const fresh = bootGuest();
    fresh.restore(snap);
    for (const x of [m, fresh]) {
      expect(x.addressSpace.read(PLIC + 0x1000n, 4)).toBe(0n); // nothing pending
      expect(x.getRegister('mip') & MEIP).toBe(0n);
      x.addressSpace.write(PLIC + 0x200004n, 10n, 4); // complete: the still-high source pends again
      expect(x.addressSpace.read(PLIC + 0x1000n, 4)).toBe(1n << 10n);
      expect(x.getRegister('mip') & MEIP).toBe(MEIP);
    }
    expect(withoutRam(fresh.snapshot())).toEqual(withoutRam(m.snapshot()));
  });

  it('carries an armed RTC alarm and the RTC time across a restore', () => {
    const RTC = 0x101000n;
    const m = bootGuest();
    m.run({ instructions: 3000 });
    const as = m.addressSpace;
    const lo = as.read(RTC, 4), hi = as.read(RTC + 4n, 4);
    const alarm = ((hi << 32n) | lo) + 50_000n;
    as.write(RTC + 0x10n, 1n, 4); // IRQ_ENABLED
    as.write(RTC + 0x0cn, alarm >> 32n, 4);
    as.write(RTC + 0x08n, alarm & 0xffffffffn, 4); // arms the alarm
    const snap = m.snapshot();
    expect(snap.timers.map((t) => t.id)).toContain('/machine/soc/rtc:timer');
    const fresh = bootGuest();
    fresh.restore(snap);
    for (const x of [m, fresh]) {
      expect(x.addressSpace.read(RTC + 0x18n, 4)).toBe(1n); // ALARM_STATUS: running
      x.run({ for: 49_000 });
      expect(x.addressSpace.read(RTC + 0x18n, 4)).toBe(1n);
      x.run({ for: 2_000 });
      expect(x.addressSpace.read(RTC + 0x18n, 4)).toBe(0n); // fired
      expect(x.addressSpace.read(0x0c001000n, 4) & (1n << 11n)).toBe(1n << 11n); // PLIC source 11 pending
    }
    expect(observe(fresh, 0)['state']).toEqual(observe(m, 0)['state']);
  });

  it('carries the UART FIFOs and their character-timeout timer', () => {
    const UART = 0x10000000n;
    const m = bootGuest();
    m.addressSpace.write(UART + 2n, 0xc1n, 1); // FCR: FIFO on, trigger level 14
    m.addressSpace.write(UART + 1n, 1n, 1); // IER.RDI (with the timeout interrupt)
    m.serial.feed('hello');
    m.run({ instructions: 10 }); // input is delivered between slices
    const snap = m.snapshot();
    expect(snap.timers.map((t) => t.id)).toContain('/machine/soc/uart0:fifoTimeout');
    const fresh = bootGuest();
    fresh.restore(snap);
    const read = (x: typeof m): string => {
      let str = '';
      for (let i = 0; i < 5; i++) str += String.fromCharCode(Number(x.addressSpace.read(UART, 1)));
      return str;
    };
    expect(fresh.addressSpace.read(UART + 5n, 1) & 1n).toBe(1n); // LSR.DR
    expect(read(fresh)).toBe('hello');
    expect(read(m)).toBe('hello');
  });

  it('carries a flash command in progress (the bank stays in I/O mode)', () => {
    const FLASH = 0x20000000n;
    const m = bootGuest();
    m.addressSpace.write(FLASH, 0x90n, 4); // read ID
    const id = m.addressSpace.read(FLASH, 4);
    expect(id).not.toBe(0n);
    const fresh = bootGuest();
    expect(fresh.addressSpace.read(FLASH, 4)).toBe(0n); // read-array mode: the (zero) contents
    fresh.restore(m.snapshot());
    expect(fresh.addressSpace.read(FLASH, 4)).toBe(id);
    fresh.addressSpace.write(FLASH, 0xffn, 4); // back to read array
    expect(fresh.addressSpace.read(FLASH, 4)).toBe(0n);
  });

  it('omits all-zero RAM pages and copies the rest', () => {
    const m = bootGuest();
    m.run({ instructions: 50_000 });
    const snap = m.snapshot();
    const ram = snap.ram.find((r) => r.name === 'riscv_virt_board.ram')!;
    expect(ram.size).toBe(16 << 20);
    const bytes = m.ram.ram!.bytes;
    let nonZero = 0;
    for (let p = 0; p < ram.size / 4096; p++) if (bytes.subarray(p * 4096, p * 4096 + 4096).some((b) => b !== 0)) nonZero++;
    expect(ram.pages.length).toBe(nonZero);
    expect(nonZero).toBeGreaterThan(0);
    expect(nonZero).toBeLessThan(64);
    // A copy: later writes do not change the snapshot.
    const h = hashBytes(ram.data);
    m.run({ instructions: 10_000 });
    expect(hashBytes(ram.data)).toBe(h);
    // The flash was never touched: nothing saved for it.
    expect(snap.ram.filter((r) => r.name.startsWith('virt.flash')).every((r) => r.pages.length === 0)).toBe(true);
  });

  it('restores RAM the guest writes through the address space (zero pages included)', () => {
    const m = bootGuest();
    m.run({ instructions: 1000 });
    const snap = m.snapshot();
    const page = 0x80400000n;
    m.writeMemory(page, Uint8Array.of(1, 2, 3, 4));
    m.restore(snap);
    expect([...m.readMemory(page, 4)]).toEqual([0, 0, 0, 0]);
  });

  it('keeps the shutdown state', () => {
    // Prints 'x' then powers off through sifive_test.
    const prog = [lui(X.t0, 0x10000), addi(X.t1, X.zero, 0x78), sb(X.t1, X.t0, 0),
      lui(X.t0, 0x100), ...[lui(X.t1, 5), addi(X.t1, X.t1, 0x555)], sw(X.t1, X.t0, 0), j(0)];
    const m = createVirtMachine({ bios: 'none', kernel: code(prog), memory: '16M' });
    const before = m.snapshot();
    expect(m.run({ instructions: 100 }).reason).toBe('shutdown');
    const after = m.snapshot();
    expect(after.machine.shutdown).toEqual({ kind: 'pass', status: 0 });
    m.restore(before);
    expect(m.shutdownInfo).toBe(null);
    expect(m.run({ instructions: 100 }).reason).toBe('shutdown');
    m.restore(after);
    expect(m.run({ instructions: 100 })).toMatchObject({ reason: 'shutdown', instructions: 0 });
  });

  it('is JSON-able apart from RAM', () => {
    const m = bootGuest();
    m.run({ instructions: 3000 });
    const s = withoutRam(m.snapshot());
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});

describe('restore checks the machine', () => {
  const snap = (): MachineSnapshot => {
    const m = bootGuest();
    m.run({ instructions: 2000 });
    return m.snapshot();
  };

  it('rejects a different RAM size, naming the block', () => {
    expect(() => bootGuest({ memory: '32M' }).restore(snap())).toThrow(/RAM block 'riscv_virt_board.ram' is 33554432 bytes here, 16777216 in the snapshot/);
  });

  it('rejects a different number of CPUs', () => {
    expect(() => bootGuest({ cpus: 2 }).restore(snap())).toThrow(SnapshotError);
  });

  it('rejects another icount shift', () => {
    expect(() => bootGuest({ icountShift: 3 }).restore(snap())).toThrow(/ns per instruction/);
  });

  it('rejects a state of a newer device version, naming device and versions', () => {
    const s = snap();
    const uart = s.devices['/machine/soc/uart0']!;
    const bad = { ...s, devices: { ...s.devices, '/machine/soc/uart0': { ...uart, version: 9 } } };
    const m = bootGuest();
    expect(() => m.restore(bad)).toThrow(VmStateError);
    expect(() => m.restore(bad)).toThrow(/\/machine\/soc\/uart0: saved 'ns16550a' state has version 9, newer than this build's version 1/);
  });

  it('rejects unknown devices and timers before changing anything', () => {
    const s = snap();
    const m = bootGuest();
    m.run({ instructions: 100 });
    const before = observe(m, 0);
    expect(() => m.restore({ ...s, devices: { ...s.devices, '/machine/soc/nothing': s.devices['/machine/soc/uart0']! } }))
      .toThrow(/'\/machine\/soc\/nothing'.*does not have/);
    expect(() => m.restore({ ...s, timers: [...s.timers, { id: 'nope', expireNs: 5 }] })).toThrow(/armed timer 'nope'/);
    expect(observe(m, 0)).toEqual(before);
  });

  it('refuses an armed timer it cannot name', () => {
    const m = bootGuest();
    m.mainLoop.virtual.timerNew(() => {}, null).modNs(123_456);
    expect(() => m.snapshot()).toThrow(/armed virtual-clock timer \(expiring at 123456 ns\) has no snapshot id/);
  });

  it('refuses to snapshot from inside a run', () => {
    const m = bootGuest();
    let err: unknown = null;
    // The serial chardev's listener runs inside the guest's MMIO write.
    m.serial.on('data', () => { try { m.snapshot(); } catch (e) { err ??= e; } });
    m.run({ instructions: 5000 });
    expect(m.serial.output.length).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(SnapshotError);
  });
});
