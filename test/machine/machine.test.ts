/**
 * The Machine's run loop, on the RISC-V virt board with tiny guest programs written inline (raw
 * kernels at 0x8000_0000, reached through the boot stub's 6 instructions): instruction budgets, the
 * icount clock (exact at MMIO), WFI warps, stop reasons, shutdown/reset requests, input, isolation.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createVirtMachine, type RiscvVirtMachine, type VirtMachineOptions } from '../../src/hw/riscv/virt.js';
import { Ns16550a } from '../../src/hw/char/serial.js';
import type { BufferChardev } from '../../src/chardev/index.js';
import { MachineError } from '../../src/machine/machine.js';
import { addi, andi, auipc, beq, bne, code, csrrs, j, lbu, li, lui, lw, nop, sb, sw, wfi, X } from './rv-asm.js';

const here = dirname(fileURLToPath(import.meta.url));
const hello = new Uint8Array(readFileSync(join(here, '../fixtures/riscv/hello.elf')));
const RAM = 0x80000000n;
/** Instructions of the boot stub before the kernel's first one. */
const STUB = 6;

const boot = (words: number[], opts: VirtMachineOptions<BufferChardev> = {}): RiscvVirtMachine =>
  createVirtMachine({ bios: 'none', kernel: code(words), ...opts });
const output = (m: RiscvVirtMachine): string => m.serial.output;

/** An endless loop. */
const spin = [j(0)];
/** Writes 'x' to the UART forever. */
const printForever = [lui(X.t0, 0x10000), addi(X.t1, X.zero, 0x78), sb(X.t1, X.t0, 0), j(-4)];

describe('instruction budget and the icount clock', () => {
  it('runs exactly the instructions asked, and virtual time is 4 ns each (icount shift 2)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 5 }), (chunks) => {
      const m = boot(spin);
      let total = 0;
      for (const n of chunks) {
        const r = m.run({ instructions: n });
        expect(r.reason).toBe('instructions');
        expect(r.instructions).toBe(n);
        total += n;
        expect(r.virtualTimeNs).toBe(total * 4);
      }
      expect(m.instructions).toBe(total);
    }), { numRuns: 15 });
  });

  it('follows icountShift', () => {
    const m = boot(spin, { icountShift: 0 });
    expect(m.run({ instructions: 1234 }).virtualTimeNs).toBe(1234);
    expect(boot(spin, { icountShift: 5 }).step(10).virtualTimeNs).toBe(320);
    expect(() => boot(spin, { icountShift: 11 })).toThrow(MachineError);
  });

  it('gives the guest mtime exact to the instruction, inside one run slice', () => {
    const prog = [
      lui(X.t0, 0x200c), // t0 = 0x0200c000
      lw(X.a0, X.t0, -8), // a0 = mtime (0x0200bff8)
      addi(X.t1, X.zero, 500),
      addi(X.t1, X.t1, -1),
      bne(X.t1, X.zero, -4),
      lw(X.a1, X.t0, -8), // a1 = mtime, 1002 instructions later
      ...spin,
    ];
    const m = boot(prog);
    m.run({ instructions: 2000 });
    // The first load is instruction STUB+1 (7 done before it), the second 1002 instructions later;
    // mtime = ns / 100 at 4 ns per instruction.
    expect(m.getRegister('a0')).toBe(BigInt(Math.floor(((STUB + 1) * 4) / 100)));
    expect(m.getRegister('a1')).toBe(BigInt(Math.floor(((STUB + 1 + 1002) * 4) / 100)));
  });

  it('jumps the clock to the next timer deadline while the hart waits in WFI', () => {
    const prog = [
      lui(X.t0, 0x2004), // mtimecmp[0] at 0x02004000
      addi(X.t1, X.zero, 1000), // 1000 ticks = 100 us
      sw(X.t1, X.t0, 0),
      sw(X.zero, X.t0, 4),
      addi(X.t2, X.zero, 0x80), // mie.MTIE (mstatus.MIE stays off: WFI wakes, no trap)
      csrrs(X.zero, 0x304, X.t2),
      wfi(),
      ...spin,
    ];
    const m = boot(prog);
    const r = m.run({ instructions: STUB + 7 + 7 });
    expect(r.reason).toBe('instructions');
    // The last mtimecmp write (instruction STUB+4, 9 done before it: 36 ns, mtime 0) arms the timer
    // 1000 ticks later, relative to that moment as QEMU riscv_aclint_mtimer_write_timecmp does; the
    // hart wakes exactly then and runs its 7 remaining instructions.
    expect(r.virtualTimeNs).toBe((STUB + 3) * 4 + 100_000 + 7 * 4);
  });

  it("stops at WFI with until: 'halt', and reports 'idle' when nothing can wake the hart", () => {
    const m = boot([wfi(), ...spin]);
    const r = m.run({ until: 'halt' });
    expect(r).toEqual({ reason: 'halt', instructions: STUB + 1, virtualTimeNs: (STUB + 1) * 4 });
    expect(m.harts[0]!.halted).toBe(true);
    expect(m.run()).toEqual({ reason: 'idle', instructions: 0, virtualTimeNs: (STUB + 1) * 4 });
  });

  it('runs for a virtual duration with clock.advance', () => {
    const m = boot(spin);
    const r = m.clock.advance('10us');
    expect(r.reason).toBe('time');
    expect(m.clock.now).toBe(10_000);
    expect(r.instructions).toBe(10_000 / 4);
  });
});

describe('stop reasons and requests', () => {
  it('shuts down when the guest says so, stays down, and boots again after reset', () => {
    const m = createVirtMachine({ bios: 'none', kernel: hello });
    const events: unknown[] = [];
    m.on('shutdown', (info) => events.push(info));
    const r = m.run();
    expect(r.reason).toBe('shutdown');
    expect(events).toEqual([{ kind: 'pass', status: 0 }]);
    expect(m.shutdownInfo).toEqual({ kind: 'pass', status: 0 });
    expect(m.run()).toMatchObject({ reason: 'shutdown', instructions: 0 });
    m.reset();
    expect(m.shutdownInfo).toBeNull();
    expect(m.run().reason).toBe('shutdown');
    expect(output(m)).toBe('Hello from softboard\n'.repeat(2));
  });

  it('resets on the guest request (sifive_test 0x7777) and keeps running; RAM survives the reset', () => {
    const prog = [
      auipc(X.s0, 1), // s0 = 0x80001000: a boot counter in RAM
      lw(X.t1, X.s0, 0),
      addi(X.t1, X.t1, 1),
      sw(X.t1, X.s0, 0),
      lui(X.t0, 0x100), // sifive_test
      addi(X.t2, X.zero, 2),
      beq(X.t1, X.t2, 20),
      ...li(X.a0, 0x7777),
      sw(X.a0, X.t0, 0),
      ...spin,
      ...li(X.a0, 0x5555),
      sw(X.a0, X.t0, 0),
      ...spin,
    ];
    const m = boot(prog);
    let resets = 0;
    m.on('reset', () => resets++);
    const r = m.run();
    expect(r.reason).toBe('shutdown');
    expect(resets).toBe(1);
    expect(m.shutdownInfo).toEqual({ kind: 'pass', status: 0 });
    expect(m.readMemory(RAM + 0x1000n, 4)).toEqual(new Uint8Array([2, 0, 0, 0]));
  });

  it('reports a guest failure code (sifive_test (code << 16) | 0x3333)', () => {
    const m = boot([lui(X.t0, 0x100), ...li(X.a0, (42 << 16) | 0x3333), sw(X.a0, X.t0, 0), ...spin]);
    expect(m.run().reason).toBe('shutdown');
    expect(m.shutdownInfo).toEqual({ kind: 'fail', status: 42 });
  });

  it('pauses from an event listener, and resumes where it stopped', () => {
    const m = boot(printForever);
    m.on('output', () => { if (output(m).length === 3) m.pause(); });
    const r = m.run();
    expect(r.reason).toBe('paused');
    expect(output(m)).toBe('xxx');
    const again = m.run({ instructions: 100 });
    expect(again.reason).toBe('instructions');
    expect(output(m).length).toBeGreaterThan(3);
  });

  it('stops on an until predicate, and on a host timeout', () => {
    const m = boot(printForever);
    expect(m.run({ until: () => output(m).includes('xxxxx') }).reason).toBe('until');
    expect(output(m)).toBe('xxxxx');
    const t = boot(spin).run({ timeoutMs: 30 });
    expect(t.reason).toBe('timeout');
    expect(t.instructions).toBeGreaterThan(0);
  });

  it('delivers serial input to the guest (an echo program)', () => {
    const prog = [
      lui(X.t0, 0x10000),
      lbu(X.t1, X.t0, 5), // LSR
      andi(X.t1, X.t1, 1), // DR
      beq(X.t1, X.zero, -8),
      lbu(X.t2, X.t0, 0),
      sb(X.t2, X.t0, 0),
      j(-20),
    ];
    const m = boot(prog);
    m.run({ instructions: 1000 });
    expect(output(m)).toBe('');
    m.serial.feed('hi!');
    m.run({ instructions: 5000 });
    expect(output(m)).toBe('hi!');
  });

  it('runUntilOutput resolves with the output, and rejects when the machine stops first', async () => {
    const m = createVirtMachine({ bios: 'none', kernel: hello });
    await expect(m.runUntilOutput('from')).resolves.toContain('Hello from');
    const n = createVirtMachine({ bios: 'none', kernel: hello });
    await expect(n.runUntilOutput('never printed')).rejects.toThrow(/machine stopped \(shutdown\) before the serial output had "never printed"/);
    const s = boot(spin);
    await expect(s.runUntilOutput('x', { instructions: 5000 })).rejects.toThrow(/no "x" after 5000 instructions/);
  });
});

describe('access from the embedding program', () => {
  it('finds devices by QOM path and names the known ones otherwise', () => {
    const m = boot(spin);
    expect(m.device('/machine/soc/uart0')).toBeInstanceOf(Ns16550a);
    expect(m.device('/machine/soc/uart0')).toBe(m.uart);
    expect(() => m.device('/machine/soc/uart7')).toThrow(/no object at '\/machine\/soc\/uart7' \(board devices: .*\/machine\/soc\/uart0/);
  });

  it('reads and writes memory and registers', () => {
    const m = boot(spin);
    m.writeMemory(RAM + 0x2000n, new Uint8Array([1, 2, 3]));
    expect(m.readMemory(RAM + 0x2000n, 3)).toEqual(new Uint8Array([1, 2, 3]));
    m.run({ instructions: STUB });
    expect(m.getRegister('pc')).toBe(RAM);
    m.setRegister('a5', 0x1234n);
    expect(m.getRegister('x15')).toBe(0x1234n);
    expect(() => m.getRegister('pc', 3)).toThrow(/no CPU 3: the machine has 1/);
  });

  it('re-translates code the embedder overwrote', () => {
    const m = boot([addi(X.a0, X.zero, 1), ...spin]);
    m.run({ instructions: STUB + 5 });
    expect(m.getRegister('a0')).toBe(1n);
    m.writeMemory(RAM, code([addi(X.a0, X.zero, 2)]));
    m.setRegister('pc', RAM);
    m.run({ instructions: 3 });
    expect(m.getRegister('a0')).toBe(2n);
  });

  it('rewrites the boot images at reset (QEMU rom_reset), whatever the guest did to them', () => {
    const m = createVirtMachine({ bios: 'none', kernel: hello });
    const image = m.readMemory(RAM, 64);
    const stub = m.readMemory(0x1000n, 40);
    m.writeMemory(RAM, new Uint8Array(64).fill(0xff));
    m.reset();
    expect(m.readMemory(RAM, 64)).toEqual(image);
    expect(m.readMemory(0x1000n, 40)).toEqual(stub);
    expect(m.run().reason).toBe('shutdown');
    expect(output(m)).toBe('Hello from softboard\n');
  });

  it('keeps two machines apart (clocks, output, memory)', () => {
    const a = boot(printForever);
    const b = boot([nop(), ...printForever]);
    a.run({ instructions: 100 });
    b.run({ instructions: 50 });
    a.run({ instructions: 100 });
    expect(a.clock.now).toBe(800);
    expect(b.clock.now).toBe(200);
    expect(output(a).length).toBeGreaterThan(output(b).length);
    a.writeMemory(RAM + 0x3000n, new Uint8Array([9]));
    expect(b.readMemory(RAM + 0x3000n, 1)).toEqual(new Uint8Array([0]));
  });
});
