/**
 * Watchpoints and symbol breakpoints on a Machine, with the Debian-built hello.elf on the virt board:
 * a run stops right after the instruction that touched the watched bytes, with the access; symbols of
 * the loaded ELF resolve; with no watchpoint left, no hook stays installed.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createVirtMachine } from '../../src/hw/riscv/virt.js';
import { MachineError } from '../../src/machine/machine.js';

const here = dirname(fileURLToPath(import.meta.url));
const hello = new Uint8Array(readFileSync(join(here, '../fixtures/riscv/hello.elf')));
// From `riscv64-unknown-elf-nm hello.elf` / objdump: boot_a1 = 0x80000228, stored by `sd a1,0(t0)` at 0x8000001c.
const BOOT_A1 = 0x8000_0228n, STORE_A1 = 0x8000_001cn, MAIN = 0x8000_01c4n;

const boot = () => createVirtMachine({ bios: 'none', kernel: hello });

describe('watchpoints', () => {
  it('stops after the store to a watched symbol, reporting the access', () => {
    const m = boot();
    const wp = m.addWatchpoint('boot_a1', 8, 'w');
    expect(wp.addr).toBe(BOOT_A1);
    const r = m.run({ instructions: 100_000 });
    expect(r.reason).toBe('watchpoint');
    expect(r.watchpoint).toMatchObject({ kind: 'w', addr: BOOT_A1, size: 8, value: m.bootInfo.fdtAddr, pc: STORE_A1, cpu: 0 });
    expect(m.getRegister('pc')).toBe(STORE_A1 + 4n);
    expect(wp.hits).toBe(1);
    expect(m.lastWatchpointHit).toBe(r.watchpoint);
    // Resuming goes on; the guest never stores there again, so it runs to its end.
    expect(m.run({ instructions: 200_000 }).reason).toBe('shutdown');
    expect(m.serial.output).toBe('Hello from softboard\n');
  });

  it('catches loads (a device register here) and ignores the other kind', () => {
    const m = boot();
    m.addWatchpoint(0x8000_0228n, 8, 'r'); // stored, never loaded
    const lsr = m.addWatchpoint(0x1000_0005n, 1, 'r'); // UART LSR, polled before each byte
    const r = m.run({ instructions: 100_000 });
    expect(r.reason).toBe('watchpoint');
    expect(r.watchpoint?.watchpoint).toBe(lsr);
    expect(r.watchpoint).toMatchObject({ kind: 'r', addr: 0x1000_0005n, size: 1 });
    expect(Number(r.watchpoint!.value) & 0x20).toBe(0x20); // THRE: transmitter empty
    // The instruction at the reported pc is a byte load (lbu: opcode 0x03, funct3 4).
    const w = new DataView(m.readMemory(r.watchpoint!.pc, 4).buffer).getUint32(0, true);
    expect([w & 0x7f, (w >> 12) & 7]).toEqual([0x03, 4]);
    expect(m.serial.output).toBe('');
  });

  it('unhooks the CPUs when the last watchpoint goes', () => {
    const m = boot();
    const hooks = m.harts[0]!.hooks;
    const a = m.addWatchpoint(0x8000_0000n, 4, 'rw');
    const b = m.addWatchpoint(0x8000_0010n, 4, 'rw');
    expect(hooks.listenerCount('mem:read')).toBe(1);
    expect(m.removeWatchpoint(a)).toBe(true);
    expect(hooks.listenerCount('mem:write')).toBe(1);
    expect(m.removeWatchpoint(b)).toBe(true);
    expect(m.removeWatchpoint(b)).toBe(false);
    expect(hooks.eventNames()).toEqual([]);
    expect(m.run({ instructions: 200_000 }).reason).toBe('shutdown');
  });

  it('rejects bad arguments', () => {
    const m = boot();
    expect(() => m.addWatchpoint(0x8000_0000n, 0)).toThrow(MachineError);
    expect(() => m.addWatchpoint('no_such_symbol')).toThrow(/no symbol 'no_such_symbol'/);
  });
});

describe('breakpoints by symbol', () => {
  it('stops at main, then resumes over it', () => {
    const m = boot();
    expect(m.addBreakpoint('main')).toBe(MAIN);
    expect(m.symbolize(MAIN + 8n)).toBe('main+0x8');
    const r = m.run({ instructions: 100_000 });
    expect(r.reason).toBe('breakpoint');
    expect(m.getRegister('pc')).toBe(MAIN);
    expect(m.serial.output).toBe('');
    expect(m.removeBreakpoint('main')).toBe(true);
    expect(m.run({ instructions: 200_000 }).reason).toBe('shutdown');
  });

  it('suggests the symbol meant', () => {
    expect(() => boot().addBreakpoint('mainn')).toThrow(/no symbol 'mainn' in the loaded images \(did you mean 'main'\?\)/);
    expect(() => createVirtMachine({ bios: 'none' }).addBreakpoint('main')).toThrow(/no ELF image with symbols/);
  });
});
