/**
 * Peripheral stubs: register semantics (reset, read/write functions, read-only, partial accesses),
 * the access log with the exact pc and instruction count of guest accesses, mapping errors.
 */
import { describe, expect, it } from 'vitest';
import { defineBoard } from '../../../src/hw/core/board.js';
import { PeripheralStubError, peripheralStub } from '../../../src/hw/misc/peripheral-stub.js';
import { addi, code, j, lui, lw, sw, X } from '../../machine/rv-asm.js';

const create = defineBoard({
  name: 'stubby', cpu: { arch: 'riscv32' },
  memory: [{ name: 'ram', kind: 'ram', base: 0x8000_0000, size: '64K' }],
  fdt: false,
});

describe('peripheral stub', () => {
  it('records guest accesses with the pc and instruction count of each', () => {
    // 0: lui t0,0x10012  4: addi t1,zero,0x5a  8: sw t1,4(t0)  12: lw a0,0(t0)  16: lw a1,4(t0)  20: j 0
    const m = create({ firmware: code([lui(X.t0, 0x10012), addi(X.t1, X.zero, 0x5a), sw(X.t1, X.t0, 4), lw(X.a0, X.t0, 0), lw(X.a1, X.t0, 4), j(0)]) });
    const stub = m.addPeripheralStub({
      name: 'gpio', base: 0x1001_2000, size: 0x100,
      registers: { 0x0: { name: 'status', reset: 0x81, readonly: true }, 0x4: { name: 'out', write: (v) => v | 0x100n } },
    });
    m.run({ instructions: 5 });
    expect(stub.accesses).toEqual([
      { kind: 'write', offset: 4, size: 4, value: 0x5an, pc: 0x8000_0008n, icount: 2 },
      { kind: 'read', offset: 0, size: 4, value: 0x81n, pc: 0x8000_000cn, icount: 3 },
      { kind: 'read', offset: 4, size: 4, value: 0x15an, pc: 0x8000_0010n, icount: 4 },
    ]);
    expect(m.getRegister('a0')).toBe(0x81n);
    expect(m.getRegister('a1')).toBe(0x15an);
    expect(stub.register(4)).toBe(0x15an);
    m.reset();
    expect(stub.register(4)).toBe(0n);
    expect(stub.register(0)).toBe(0x81n);
  });

  it('merges partial accesses, ignores read-only writes, lets onRead/onWrite observe and override', () => {
    const m = create();
    const seen: number[] = [];
    const stub = m.addPeripheralStub({
      name: 's', base: 0x1000_0000, size: 0x10,
      registers: { 0: { reset: 0x11223344 }, 8: { readonly: true, reset: 7, read: (v) => v * 2n } },
      onRead: ({ offset }) => (offset === 0xc ? 0xab : undefined),
      onWrite: ({ offset }) => { seen.push(offset); },
    });
    m.writeMemory(0x1000_0001n, new Uint8Array([0xff]));
    expect(stub.register(0)).toBe(0x1122ff44n);
    expect([...m.readMemory(0x1000_0002n, 2)]).toEqual([0x22, 0x11]);
    m.writeMemory(0x1000_0008n, new Uint8Array([9, 0, 0, 0]));
    expect(stub.register(8)).toBe(7n);
    expect([...m.readMemory(0x1000_0008n, 1)]).toEqual([14]);
    expect([...m.readMemory(0x1000_000cn, 1)]).toEqual([0xab]);
    expect([...m.readMemory(0x1000_0004n, 1)]).toEqual([0]);
    expect(seen).toEqual([1, 8]);
    expect(stub.writes().map((a) => a.offset)).toEqual([1, 8]);
    expect(stub.accesses.every((a) => a.pc === undefined)).toBe(true);
  });

  it('rejects bad descriptions and overlapping maps, naming them', () => {
    expect(() => peripheralStub({ name: 'x', base: 0, size: 8, registers: { 0: {}, 2: {} } })).toThrow(/register at offset 2 overlaps the register at offset 0x0/);
    expect(() => peripheralStub({ name: 'x', base: 0, size: 8, registers: { 6: {} } })).toThrow(PeripheralStubError);
    const m = create();
    expect(() => m.addPeripheralStub({ name: 'y', base: 0x8000_1000, size: 0x100 })).toThrow(/stub 'y' at 0x80001000-0x800010ff overlaps 'stubby.ram'/);
    const over = m.addPeripheralStub({ name: 'z', base: 0x8000_1000, size: 0x100, priority: 1, registers: { 0: { reset: 5 } } });
    expect([...m.readMemory(0x8000_1000n, 1)]).toEqual([5]);
    expect(over.reads(0)).toHaveLength(1);
  });

  it('can be declared on a board', () => {
    const b = defineBoard({
      name: 'stubbed', cpu: { arch: 'riscv64' }, fdt: false,
      memory: [{ name: 'ram', kind: 'ram', base: 0x8000_0000, size: '64K' }],
      stubs: [{ name: 'spi', base: 0x1004_0000, size: 0x1000, registers: { 0x10: { reset: 3 } } }],
    });
    const m = b();
    expect([...m.readMemory(0x1004_0010n, 1)]).toEqual([3]);
    expect(m.dev('spi')).toBe(m.stubs.get('spi'));
    expect(() => defineBoard({ name: 'bad', cpu: { arch: 'riscv64' }, memory: [{ name: 'ram', kind: 'ram', base: 0x1004_0000, size: '64K' }], stubs: [{ name: 'spi', base: 0x1004_0000, size: 0x10 }] }))
      .toThrow(/stub 'spi' at 0x10040000-0x1004000f overlaps RAM 'ram'/);
  });
});
