/** The wasm tier's machine memory: grows without detaching earlier views, knows its own views. */
import { describe, expect, it } from 'vitest';
import { createWasmTcgMemory, RAM_BASE_ENTRIES, RAM_BASE_TABLE, WasmTcgMemoryError } from '../../src/tcg/backend/wasm/tcg-memory.js';

describe('WasmTcgMemory', () => {
  it('allocates aligned, zeroed blocks past the RAM base table, growing the memory', () => {
    const m = createWasmTcgMemory()!;
    const a = m.allocate(100, 64);
    expect(a % 64).toBe(0);
    expect(a).toBeGreaterThanOrEqual(RAM_BASE_TABLE + RAM_BASE_ENTRIES * 4);
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

  it('records where RAM blocks live, -1 for a block elsewhere, and refuses ids past its table', () => {
    const m = createWasmTcgMemory()!;
    const inside = m.ramAllocator.allocate(4096, 'a');
    m.setRamBlock(0, inside);
    m.setRamBlock(1, new Uint8Array(4096));
    const table = new Int32Array(m.buffer, RAM_BASE_TABLE, 2);
    expect(table[0]).toBe(inside.byteOffset);
    expect(table[1]).toBe(-1);
    expect(() => m.setRamBlock(RAM_BASE_ENTRIES, inside)).toThrow(WasmTcgMemoryError);
  });

  it('refuses an allocation past 4 GiB (a RAM block then gets its own buffer)', () => {
    const m = createWasmTcgMemory()!;
    expect(() => m.allocate(2 ** 32)).toThrow(WasmTcgMemoryError);
    expect(() => m.allocate(-1)).toThrow(WasmTcgMemoryError);
  });
});
