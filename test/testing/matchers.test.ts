/**
 * softboard/testing's matchers through Vitest's real `expect` (registered by the `vitest` entry, as a
 * user's setup file does): each passes when the machine is in the stated state and fails with a
 * message naming what differs otherwise, `.not` inverts them, and misuse throws MatcherUsageError.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../../src/testing/vitest.js';
import { littleEndian, MatcherUsageError, softboardMatchers } from '../../src/testing/index.js';
import { createVirtMachine } from '../../src/hw/riscv/virt.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(here, '../fixtures/riscv', name)));

/** The failure message of a matcher call, without the runner's colours. */
function failure(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    // eslint-disable-next-line no-control-regex
    return (e as Error).message.replace(/\u001b\[[0-9;]*m/g, '');
  }
  throw new Error('the matcher passed');
}

/** A machine that never ran: RAM and registers are ours to set. */
const idle64 = createVirtMachine();
const RAM = 0x80000000n;

describe('toHaveSerialOutput', () => {
  it('passes on what hello.elf prints, and fails on what it does not', () => {
    const m = createVirtMachine({ kernel: fixture('hello.elf') });
    m.run({ timeoutMs: 10_000 });
    expect(m).toHaveSerialOutput('Hello from softboard\n');
    expect(m).toHaveSerialOutput(/hello from \w+/i);
    expect(m).not.toHaveSerialOutput('Goodbye');
    expect(failure(() => expect(m).toHaveSerialOutput('Goodbye'))).toMatch(/Expected serial output to contain: "Goodbye"\nReceived serial output: "Hello from softboard\n"/);
    expect(failure(() => expect(m).not.toHaveSerialOutput('Hello'))).toMatch(/Expected serial output not to contain: "Hello"/);
  });

  it('is substring containment of the chardev output (property)', () => {
    fc.assert(fc.property(fc.string(), fc.string(), fc.string(), (a, b, c) => {
      const chr = { output: a + b + c }; // what the matcher reads of a BufferChardev
      expect(chr).toHaveSerialOutput(b);
      const absent = a + b + c + '\u0000x';
      expect(chr).not.toHaveSerialOutput(absent);
    }), { numRuns: 50 });
  });

  it('ignores the g/y flags of a RegExp (no lastIndex carried between calls)', () => {
    const chr = { output: 'tick tock' };
    const re = /to/g;
    expect(chr).toHaveSerialOutput(re);
    expect(chr).toHaveSerialOutput(re);
  });
});

describe('toHaveRegister', () => {
  it('compares a register with the value set into it (property, RV64)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom('a0', 't3', 's11'), (v, reg) => {
      idle64.setRegister(reg, v);
      expect(idle64).toHaveRegister(reg, v);
      expect(idle64).not.toHaveRegister(reg, v ^ 1n);
    }), { numRuns: 50 });
  });

  it('takes negative values in two\'s complement at the XLEN', () => {
    idle64.setRegister('a1', (1n << 64n) - 1n);
    expect(idle64).toHaveRegister('a1', -1);
    expect(idle64).toHaveRegister('a1', -1n);
    const rv32 = createVirtMachine({ arch: 'riscv32' });
    rv32.setRegister('a1', 0xfffffffen);
    expect(rv32).toHaveRegister('a1', -2);
    expect(rv32).not.toHaveRegister('a1', 0xfffffffffffffffen + 1n);
  });

  it('names the register and both values in hex when it fails', () => {
    idle64.setRegister('a2', 0x1234n);
    expect(failure(() => expect(idle64).toHaveRegister('a2', 0x1235n)))
      .toContain('Expected a2 to be: 0x1235 (4661)\nReceived a2: 0x1234 (4660)');
    expect(failure(() => expect(idle64).toHaveRegister('a2', 7, 0))).toContain('Received a2: 0x1234');
  });

  it('reads CSRs and the pc by name', () => {
    const m = createVirtMachine();
    expect(m).toHaveRegister('pc', 0x1000n); // the virt board's reset vector (QEMU hw/riscv/virt.c mrom)
    expect(m).toHaveRegister('mhartid', 0);
  });
});

describe('toHaveShutdownWith', () => {
  it('matches a guest pass by status, kind or both', () => {
    const m = createVirtMachine({ kernel: fixture('hello.elf') });
    m.run({ timeoutMs: 10_000 });
    expect(m).toHaveShutdownWith(0);
    expect(m).toHaveShutdownWith('pass');
    expect(m).toHaveShutdownWith({ kind: 'pass', status: 0 });
    expect(m).not.toHaveShutdownWith('fail');
    expect(m).not.toHaveShutdownWith(1);
    expect(failure(() => expect(m).toHaveShutdownWith({ kind: 'fail', status: 1 })))
      .toContain('Expected shutdown with: kind fail, status 1\nReceived: shutdown with kind pass, status 0');
  });

  it('matches a failure status (property over host shutdowns)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 0xffff }), fc.constantFrom('fail' as const, 'host' as const), (status, kind) => {
      const m = createVirtMachine();
      m.shutdown({ kind, status });
      expect(m).toHaveShutdownWith(status);
      expect(m).toHaveShutdownWith({ kind, status });
      expect(m).not.toHaveShutdownWith({ kind, status: status - 1 });
      expect(m).not.toHaveShutdownWith('pass');
    }), { numRuns: 10 });
  });

  it('says the machine is still running, with its pc, when it has not shut down', () => {
    const m = createVirtMachine();
    expect(m).not.toHaveShutdownWith(0);
    expect(failure(() => expect(m).toHaveShutdownWith(0))).toContain('Expected shutdown with: status 0\nReceived: the machine has not shut down (still running at pc 0x1000)');
  });
});

describe('toHaveMemory', () => {
  it('compares guest memory with the bytes written there (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.integer({ min: 0, max: 0xffff }), fc.nat(), (bytes, off, flip) => {
      const addr = RAM + BigInt(off);
      idle64.writeMemory(addr, bytes);
      expect(idle64).toHaveMemory(addr, bytes);
      expect(idle64).toHaveMemory(Number(addr), [...bytes]);
      const wrong = bytes.slice();
      const i = flip % wrong.length;
      wrong[i] = wrong[i]! ^ 0xff;
      expect(idle64).not.toHaveMemory(addr, wrong);
      expect(failure(() => expect(idle64).toHaveMemory(addr, wrong))).toContain(`First difference at 0x${(addr + BigInt(i)).toString(16)} (offset ${i})`);
    }), { numRuns: 50 });
  });

  it('takes a string as its UTF-8 bytes', () => {
    idle64.writeMemory(RAM + 0x100n, new Uint8Array([0x68, 0xc3, 0xa9, 0x21])); // "hé!"
    expect(idle64).toHaveMemory(RAM + 0x100n, 'hé!');
    expect(idle64).not.toHaveMemory(RAM + 0x100n, 'he!');
  });
});

describe('misuse', () => {
  it('throws MatcherUsageError for a value that is not a machine, even under .not', () => {
    for (const bad of [null, 42, 'text', {}]) {
      expect(() => expect(bad).toHaveRegister('a0', 0)).toThrow(MatcherUsageError);
      expect(() => expect(bad).not.toHaveShutdownWith(0)).toThrow(MatcherUsageError);
      expect(() => expect(bad).not.toHaveMemory(0, [1])).toThrow(/expected a softboard Machine/);
    }
    expect(() => expect({ output: 3 }).toHaveSerialOutput('x')).toThrow(MatcherUsageError);
  });

  it('rejects bad arguments with a message naming them', () => {
    expect(() => expect(idle64).toHaveMemory(-1, [0])).toThrow(/address must be/);
    expect(() => expect(idle64).toHaveMemory(RAM, [256])).toThrow(/array of 0..255/);
    expect(() => expect(idle64).toHaveRegister('a0', 1.5)).toThrow(/bigint or a safe integer/);
    expect(() => expect(idle64).toHaveShutdownWith({})).toThrow(/status number/);
  });

  it('is a plain matcher object for any runner (no runner state needed)', () => {
    // Jest and Vitest call matchers with their context as `this`; without utils the messages still read.
    const r = softboardMatchers.toHaveRegister.call({ isNot: false }, idle64, 'zero', 1n);
    expect(r.pass).toBe(false);
    expect(r.message()).toContain('expect(machine).toHaveRegister(name, value)');
  });
});

describe('littleEndian', () => {
  it('agrees with DataView (property)', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }), (v) => {
      const dv = new DataView(new ArrayBuffer(8));
      dv.setBigUint64(0, BigInt.asUintN(64, v), true);
      expect(littleEndian(v, 8)).toEqual(new Uint8Array(dv.buffer));
      dv.setUint32(0, Number(BigInt.asUintN(32, v)), true);
      expect(littleEndian(v, 4)).toEqual(new Uint8Array(dv.buffer, 0, 4));
      expect(littleEndian(Number(BigInt.asIntN(16, v)), 2)).toEqual(new Uint8Array(dv.buffer, 0, 2));
    }));
  });
});
