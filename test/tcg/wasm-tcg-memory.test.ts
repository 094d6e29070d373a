/** The wasm tier's machine memory: grows without detaching earlier views, knows its own views. */
import { describe, expect, it } from 'vitest';
import { createWasmTcgMemory, WasmTcgMemoryError } from '../../src/tcg/backend/wasm/tcg-memory.js';

describe('WasmTcgMemory', () => {
  it('allocates aligned, zeroed blocks, growing the memory', () => {
    const m = createWasmTcgMemory()!;
    m.allocate(10);
    const a = m.allocate(100, 64);
    expect(a % 64).toBe(0);
    expect(a).toBeGreaterThanOrEqual(10);
    const b = m.allocate(3 << 20, 65536); // more than the first page: the memory grows
    expect(b % 65536).toBe(0);
    expect(b).toBeGreaterThanOrEqual(a + 100);
    expect(m.memory.buffer.byteLength).toBeGreaterThanOrEqual(b + (3 << 20));
    expect(new Uint8Array(m.buffer, b, 3 << 20).every((x) => x === 0)).toBe(true);
  });

  it('keeps earlier views valid when it grows, and tells its views from other buffers', () => {
    const m = createWasmTcgMemory()!;
    const early = m.allocateI32(16);
    early[3] = 1234;
    const ram = m.ramAllocator.allocate(8 << 20, 'ram'); // grows by 8 MiB
    ram[5] = 7;
    expect(early[3]).toBe(1234);
    expect(new Int32Array(m.buffer, early.byteOffset, 16)[3]).toBe(1234);
    expect(m.addressOf(ram)).toBe(ram.byteOffset);
    expect(m.addressOf(early)).toBe(early.byteOffset);
    expect(m.addressOf(new Uint8Array(16))).toBe(-1);
  });

  it('refuses an allocation past 4 GiB (a RAM block then gets its own buffer)', () => {
    const m = createWasmTcgMemory()!;
    m.allocate(8);
    expect(() => m.allocate(2 ** 32)).toThrow(WasmTcgMemoryError);
    expect(() => m.allocate(-1)).toThrow(WasmTcgMemoryError);
  });
});
