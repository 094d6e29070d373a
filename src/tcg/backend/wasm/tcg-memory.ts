/**
 * One `WebAssembly.Memory` per machine holding what translated wasm code reads with plain loads and
 * stores: guest RAM, each CPU's env and soft TLB, and the small control blocks of the wasm tier
 * (./tier.ts). This is the layout QEMU gets for free from one host address space (a TB reaches env
 * through a fixed register and RAM through the TLB's addend, accel/tcg/cputlb.c).
 *
 * The memory is *shared* (backed by a `SharedArrayBuffer`) so that it can grow without detaching the
 * typed arrays made before: RAM blocks, env views and TLB arrays are views into it that stay valid for
 * the lifetime of the machine. It reserves up to 4 GiB of address space but commits only what is
 * allocated (zero pages are mapped lazily by the host). Where shared memory is not available (a
 * browser page without cross-origin isolation) {@link createWasmTcgMemory} returns null and the machine
 * runs on the JS backends. Translated code finds a RAM page through its TLB entry's addend (the byte
 * address of the page here, src/accel/tcg/tlb.ts), so nothing else is laid out at fixed addresses.
 */

/** 64 KiB pages. */
const PAGE = 65536;
/** wasm32's limit: 4 GiB. */
const MAX_PAGES = 65536;

/** Thrown when the machine memory cannot hold more (a RAM block falls back to its own buffer instead). */
export class WasmTcgMemoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmTcgMemoryError';
  }
}

/** The machine's wasm memory (see the file comment). */
export class WasmTcgMemory {
  readonly memory: WebAssembly.Memory;
  private next: number;
  /** Every `SharedArrayBuffer` object this memory has handed out (a new one after each growth). */
  private readonly buffers = new WeakSet<object>();

  /** Use {@link createWasmTcgMemory}. */
  constructor(memory: WebAssembly.Memory) {
    this.memory = memory;
    this.next = 0;
  }

  /** The memory's current buffer (views made on it stay valid when the memory grows). */
  get buffer(): SharedArrayBuffer {
    const b = this.memory.buffer as unknown as SharedArrayBuffer;
    this.buffers.add(b);
    return b;
  }

  /** Bytes allocated so far. */
  get used(): number {
    return this.next;
  }

  /**
   * Allocates `size` zeroed bytes aligned to `align` and returns their byte address; grows the memory
   * as needed. Throws {@link WasmTcgMemoryError} past 4 GiB.
   */
  allocate(size: number, align = 8): number {
    const start = Math.ceil(this.next / align) * align;
    const end = start + size;
    if (!(Number.isInteger(size) && size >= 0) || end > MAX_PAGES * PAGE) {
      throw new WasmTcgMemoryError(`wasm machine memory: cannot allocate ${size} bytes (${MAX_PAGES * PAGE - start} left)`);
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.next = end;
    return start;
  }

  /** {@link allocate}s `words` int32s and returns their view. */
  allocateI32(words: number, align = 8): Int32Array {
    const at = this.allocate(words * 4, align);
    return new Int32Array(this.buffer, at, words);
  }

  /** The byte address of `bytes` in this memory, or -1 if it is a view of some other buffer. */
  addressOf(bytes: ArrayBufferView): number {
    return this.buffers.has(bytes.buffer) ? bytes.byteOffset : -1;
  }

  /**
   * A RAM allocator (src/memory `RamAllocator`) placing blocks in this memory; a block that does not fit
   * gets a buffer of its own (its accesses then take the slow path in wasm code).
   */
  readonly ramAllocator = {
    allocate: (size: number, _name: string): Uint8Array => {
      try {
        const at = this.allocate(size, PAGE);
        return new Uint8Array(this.buffer, at, size);
      } catch (e) {
        if (!(e instanceof WasmTcgMemoryError) && !(e instanceof RangeError)) throw e;
        return new Uint8Array(size);
      }
    },
  };
}

/** A new machine memory, or null where shared WebAssembly memory is not available. */
export function createWasmTcgMemory(): WasmTcgMemory | null {
  if (typeof SharedArrayBuffer === 'undefined' || typeof WebAssembly === 'undefined') return null;
  try {
    return new WasmTcgMemory(new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true }));
  } catch {
    return null;
  }
}
