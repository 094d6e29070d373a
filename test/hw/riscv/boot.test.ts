/**
 * The placement rules of QEMU hw/riscv/boot.c as properties (the exact words of the reset stub and
 * fw_dynamic_info are compared with QEMU's own in virt.test.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fdtLoadAddr, fwDynamicInfoBytes, initrdStartAddr, kernelStartAddr, parseFwDynamicInfo, resetVectorBytes, RESET_VEC_SIZE,
} from '../../../src/hw/riscv/boot.js';

const MiB = 1n << 20n, GiB = 1n << 30n;
const big = (max: bigint): fc.Arbitrary<bigint> => fc.bigInt({ min: 0n, max });

describe('boot placement', () => {
  it('puts the FDT at the highest 2 MiB boundary where it fits below min(RAM end, 3 GiB)', () => {
    fc.assert(fc.property(big(64n).map((n) => (n + 16n) * 16n * MiB), fc.integer({ min: 1, max: 1 << 20 }), (mem, size) => {
      const base = 0x80000000n;
      const a = fdtLoadAddr(base, mem, size);
      const top = base + mem < 3n * GiB ? base + mem : 3n * GiB;
      expect(a % (2n * MiB)).toBe(0n);
      expect(a + BigInt(size) <= top).toBe(true);
      expect(a + 2n * MiB + BigInt(size) > top).toBe(true);
    }));
  });

  it('puts the kernel on the next 2 MiB (RV64) / 4 MiB (RV32) boundary after the firmware', () => {
    fc.assert(fc.property(big(1n << 32n), fc.constantFrom(32 as const, 64 as const), (end, xlen) => {
      const align = xlen === 32 ? 4n * MiB : 2n * MiB;
      const k = kernelStartAddr(xlen, end);
      expect(k % align).toBe(0n);
      expect(k >= end && k < end + align).toBe(true);
    }));
    // QEMU: fw_jump.elf ends below 0x80200000 → kernel at 0x80200000 (rv64) / 0x80400000 (rv32).
    expect(kernelStartAddr(64, 0x80048000n)).toBe(0x80200000n);
    expect(kernelStartAddr(32, 0x80048000n)).toBe(0x80400000n);
  });

  it('puts the initrd half-way into small RAM, 128 MiB above the kernel otherwise', () => {
    expect(initrdStartAddr(0x80000000n, 128n * MiB)).toBe(0x84000000n);
    expect(initrdStartAddr(0x80200000n, 1n * GiB)).toBe(0x88200000n);
  });

  it('round-trips fw_dynamic_info and sizes it with the XLEN', () => {
    fc.assert(fc.property(fc.constantFrom(32 as const, 64 as const), big((1n << 32n) - 1n), (xlen, next) => {
      const b = fwDynamicInfoBytes(xlen, next);
      expect(b.length).toBe(6 * (xlen / 8));
      expect(parseFwDynamicInfo(xlen, b)).toEqual({ magic: 0x4942534fn, version: 2n, nextAddr: next, nextMode: 1n, options: 0n, bootHart: 0n });
    }));
    expect(resetVectorBytes(64, 0x80000000n, 0x87e00000n).length).toBe(RESET_VEC_SIZE);
  });
});
