import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createVirtMachine } from '../../src/hw/riscv/virt.js';
import type { MmioAccess } from '../../src/machine/machine.js';

const HELLO = new URL('../fixtures/riscv/hello.elf', import.meta.url);
const GREETING = 'Hello from softboard\n';

describe('Machine mmio event', () => {
  it('reports the UART writes and sifive_test write the guest makes, in order, with their values', () => {
    const m = createVirtMachine({ bios: 'none', kernel: new Uint8Array(readFileSync(HELLO)) });
    const seen: MmioAccess[] = [];
    m.on('mmio', (a) => seen.push(a));
    const r = m.run({ until: 'shutdown', instructions: 1_000_000 });
    expect(r.reason).toBe('shutdown');
    // THR writes (UART at 0x10000000, offset 0) spell the greeting the chardev received.
    const thr = seen.filter((a) => a.kind === 'write' && a.addr === 0x10000000n);
    expect(String.fromCharCode(...thr.map((a) => Number(a.value)))).toBe(GREETING);
    expect(m.serial.output).toBe(GREETING);
    // LSR polls (offset 5) are reads; the last access is the PASS write to sifive_test.
    expect(seen.some((a) => a.kind === 'read' && a.addr === 0x10000005n)).toBe(true);
    expect(seen.at(-1)).toMatchObject({ kind: 'write', addr: 0x100000n, value: 0x5555n });
  });

  it('changes nothing in the run when nobody listens', () => {
    const runOnce = (listen: boolean): [number, string] => {
      const m = createVirtMachine({ bios: 'none', kernel: new Uint8Array(readFileSync(HELLO)) });
      if (listen) m.on('mmio', () => undefined);
      const r = m.run({ until: 'shutdown', instructions: 1_000_000 });
      return [r.instructions, m.serial.output];
    };
    expect(runOnce(true)).toEqual(runOnce(false));
  });
});
