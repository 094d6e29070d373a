import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CpuLoopExit, MmuAccess, PROT_EXEC, PROT_READ, PROT_WRITE } from '../../../src/accel/tcg/tcg-cpu-ops.js';
import { RiscvHartState, PRV_M, PRV_S } from '../../../src/target/riscv/hart-state.js';
import { csrWrite } from '../../../src/target/riscv/csr.js';
import { riscvTlbFill, type RiscvPhysMemory } from '../../../src/target/riscv/mmu.js';
import { MMU_IDX_M, MMU_IDX_S, MMU_IDX_S_SUM, MMU_IDX_U, mmuIndex } from '../../../src/target/riscv/priv.js';

const RAM_BASE = 0x8000_0000n;
const RAM_SIZE = 1 << 20;

/** Physical RAM for page tables; anything else is a bus error. */
class FakeRam implements RiscvPhysMemory {
  readonly view = new DataView(new ArrayBuffer(RAM_SIZE));
  private off(addr: bigint, size: number): number {
    const o = addr - RAM_BASE;
    if (o < 0n || o + BigInt(size) > BigInt(RAM_SIZE)) throw new Error(`bus error at ${addr.toString(16)}`);
    return Number(o);
  }
  readPhys64(addr: bigint): bigint { return this.view.getBigUint64(this.off(addr, 8), true); }
  readPhys32(addr: bigint): number { return this.view.getUint32(this.off(addr, 4), true); }
  writePhys64(addr: bigint, v: bigint): void { this.view.setBigUint64(this.off(addr, 8), v, true); }
  writePhys32(addr: bigint, v: number): void { this.view.setUint32(this.off(addr, 4), v >>> 0, true); }
}

interface Geo { name: string; xlen: 32 | 64; mode: bigint; levels: number; idxBits: number; pteSize: number }
const SV32: Geo = { name: 'sv32', xlen: 32, mode: 1n, levels: 2, idxBits: 10, pteSize: 4 };
const SV39: Geo = { name: 'sv39', xlen: 64, mode: 8n, levels: 3, idxBits: 9, pteSize: 8 };
const SV48: Geo = { name: 'sv48', xlen: 64, mode: 9n, levels: 4, idxBits: 9, pteSize: 8 };
const SV57: Geo = { name: 'sv57', xlen: 64, mode: 10n, levels: 5, idxBits: 9, pteSize: 8 };

const V = 1n, R = 2n, W = 4n, X = 8n, U = 16n, A = 64n, D = 128n;

/** A page-table builder written from the spec (4.3.2/4.4), independent of the walker. */
class PageTables {
  private next = RAM_BASE;
  readonly root: bigint;
  constructor(readonly ram: FakeRam, readonly g: Geo) { this.root = this.alloc(); }
  alloc(): bigint { const a = this.next; this.next += 4096n; return a; }
  read(a: bigint): bigint { return this.g.pteSize === 8 ? this.ram.readPhys64(a) : BigInt(this.ram.readPhys32(a)); }
  write(a: bigint, v: bigint): void {
    if (this.g.pteSize === 8) this.ram.writePhys64(a, v); else this.ram.writePhys32(a, Number(v));
  }
  vpn(va: bigint, level: number): bigint {
    const shift = 12 + (this.g.levels - 1 - level) * this.g.idxBits;
    return (va >> BigInt(shift)) & ((1n << BigInt(this.g.idxBits)) - 1n);
  }
  /** Address of the PTE for `va` at `level` (0 = root), creating tables above it. */
  pteAddr(va: bigint, level: number): bigint {
    let table = this.root;
    for (let l = 0; l < level; l++) {
      const a = table + this.vpn(va, l) * BigInt(this.g.pteSize);
      let pte = this.read(a);
      if ((pte & V) === 0n) { pte = ((this.alloc() >> 12n) << 10n) | V; this.write(a, pte); }
      table = (pte >> 10n) << 12n;
    }
    return table + this.vpn(va, level) * BigInt(this.g.pteSize);
  }
  /** Maps `va` to `pa` with a leaf at `level`; returns the leaf PTE address. */
  map(va: bigint, pa: bigint, level: number, flags: bigint): bigint {
    const a = this.pteAddr(va, level);
    this.write(a, ((pa >> 12n) << 10n) | flags);
    return a;
  }
  satp(): bigint {
    return this.g.xlen === 64 ? (this.g.mode << 60n) | (this.root >> 12n) : (1n << 31n) | (this.root >> 12n);
  }
}

function setup(g: Geo): { h: RiscvHartState; ram: FakeRam; pt: PageTables } {
  const h = new RiscvHartState(g.xlen);
  const ram = new FakeRam();
  const pt = new PageTables(ram, g);
  // OpenSBI-style PMP: everything allowed for S/U through one all-ones NAPOT entry (the last one)
  csrWrite(h, 0x3b0 + 15, (1n << 64n) - 1n);
  csrWrite(h, g.xlen === 64 ? 0x3a2 : 0x3a3, 0x1fn << 56n >> (g.xlen === 64 ? 0n : 32n));
  csrWrite(h, 0x180, pt.satp());
  h.priv = PRV_S;
  return { h, ram, pt };
}

function fill(h: RiscvHartState, ram: RiscvPhysMemory, va: bigint, access: MmuAccess, idx: number) {
  return riscvTlbFill(h, ram, va, access, idx, true);
}

/** A random canonical virtual address for the geometry. */
function vaArb(g: Geo): fc.Arbitrary<bigint> {
  const bits = 12 + g.levels * g.idxBits;
  return fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n }).map((v) => {
    if (g.xlen === 32) return v;
    return (v >> BigInt(bits - 1)) & 1n ? v | (((1n << 64n) - 1n) ^ ((1n << BigInt(bits)) - 1n)) : v;
  });
}

describe('page walks', () => {
  for (const g of [SV32, SV39, SV48, SV57]) {
    it(`${g.name}: a leaf at every level maps the whole (super)page`, () => {
      const paBits = g.xlen === 64 ? 56 : 34;
      fc.assert(fc.property(vaArb(g), fc.integer({ min: 0, max: g.levels - 1 }), fc.bigInt({ min: 0n, max: (1n << BigInt(paBits)) - 1n }),
        (va, level, paRand) => {
          const { h, ram, pt } = setup(g);
          const pageBits = BigInt(12 + (g.levels - 1 - level) * g.idxBits);
          const pageMask = (1n << pageBits) - 1n;
          const pa = paRand & ~pageMask;
          pt.map(va, pa, level, V | R | W | X | A | D);
          const r = fill(h, ram, va, MmuAccess.LOAD, MMU_IDX_S);
          const vaLow = g.xlen === 32 ? va & 0xffff_ffffn : va;
          expect(r?.physPage).toBe((pa + (vaLow & pageMask)) & ~0xfffn);
          expect(r?.prot).toBe(PROT_READ | PROT_WRITE | PROT_EXEC);
        }), { numRuns: 60 });
    });
  }

  it('misaligned superpages fault', () => {
    fc.assert(fc.property(fc.constantFrom(SV39, SV48, SV32), fc.integer({ min: 1, max: 1000 }), (g, pageOff) => {
      const { h, ram, pt } = setup(g);
      const va = 0n;
      pt.map(va, RAM_BASE + BigInt(pageOff) * 4096n, g.levels - 2, V | R | A);
      const size = 1n << BigInt(12 + g.idxBits);
      const aligned = (BigInt(pageOff) * 4096n) % size === 0n;
      expect(fill(h, ram, va, MmuAccess.LOAD, MMU_IDX_S) !== null).toBe(aligned);
    }));
  });

  it('non-canonical Sv39 addresses page-fault with tval = vaddr', () => {
    const { h, ram, pt } = setup(SV39);
    pt.map(0x40_0000_0000n & 0n, RAM_BASE, 0, V | R | A); // something mapped at va 0
    const bad = 1n << 40n;
    expect(fill(h, ram, bad, MmuAccess.LOAD, MMU_IDX_S)).toBeNull();
    expect(() => riscvTlbFill(h, ram, bad, MmuAccess.STORE, MMU_IDX_S, false)).toThrow(CpuLoopExit);
    expect(h.pendingException).toEqual({ cause: 15, tval: bad, interrupt: false });
  });

  it('reserved PTE encodings fault: A/D/U on a pointer, bits 63:54 set', () => {
    const { h, ram, pt } = setup(SV39);
    const leaf = pt.map(0x1000n, RAM_BASE, 2, V | R | A);
    expect(fill(h, ram, 0x1000n, MmuAccess.LOAD, MMU_IDX_S)).not.toBeNull();
    ram.writePhys64(leaf, ram.readPhys64(leaf) | (1n << 61n)); // PBMT without Svpbmt
    expect(fill(h, ram, 0x1000n, MmuAccess.LOAD, MMU_IDX_S)).toBeNull();
    const ptr = pt.pteAddr(0x1000n, 0);
    ram.writePhys64(leaf, ram.readPhys64(leaf) & ~(1n << 61n));
    ram.writePhys64(ptr, ram.readPhys64(ptr) | A);
    expect(fill(h, ram, 0x1000n, MmuAccess.LOAD, MMU_IDX_S)).toBeNull();
  });

  it('a PTE outside RAM or denied by PMP is an access fault of the access type', () => {
    const { h, ram, pt } = setup(SV39);
    ram.writePhys64(pt.pteAddr(0x2000n, 0), ((0x1000_0000n >> 12n) << 10n) | V); // next table outside RAM
    for (const [acc, cause] of [[MmuAccess.FETCH, 1], [MmuAccess.LOAD, 5], [MmuAccess.STORE, 7]] as const) {
      h.pendingException = null;
      expect(() => riscvTlbFill(h, ram, 0x2000n, acc, MMU_IDX_S, false)).toThrow(CpuLoopExit);
      expect(h.pendingException).toEqual({ cause, tval: 0x2000n, interrupt: false });
    }
    // PMP entry 0 denies the root table page to S-mode
    const { h: h2, ram: ram2, pt: pt2 } = setup(SV39);
    pt2.map(0x3000n, RAM_BASE + 0x10_0000n, 2, V | R | W | A | D);
    expect(fill(h2, ram2, 0x3000n, MmuAccess.LOAD, MMU_IDX_S)).not.toBeNull();
    h2.priv = PRV_M;
    csrWrite(h2, 0x3b0, (pt2.root >> 2n) | 0x1ffn); // NAPOT 4 KiB, no rights
    csrWrite(h2, 0x3a2, 0x1fn << 56n); // keep entry 15
    csrWrite(h2, 0x3a0, 0x18n);
    expect(() => riscvTlbFill(h2, ram2, 0x3000n, MmuAccess.LOAD, MMU_IDX_S, false)).toThrow(CpuLoopExit);
    expect(h2.pendingException?.cause).toBe(5);
  });

  it('the final physical address is PMP-checked: denied pages are access faults, rights are intersected', () => {
    const { h, ram, pt } = setup(SV39);
    const target = 0x9000_0000n;
    pt.map(0x5000n, target, 2, V | R | W | X | A | D);
    h.priv = PRV_M;
    csrWrite(h, 0x3b0, (target >> 2n) | 0x1ffn);
    csrWrite(h, 0x3a0, 0x18n | 0x1n); // NAPOT, R only
    h.priv = PRV_S;
    expect(fill(h, ram, 0x5000n, MmuAccess.LOAD, MMU_IDX_S)?.prot).toBe(PROT_READ);
    expect(() => riscvTlbFill(h, ram, 0x5000n, MmuAccess.STORE, MMU_IDX_S, false)).toThrow(CpuLoopExit);
    expect(h.pendingException?.cause).toBe(7);
  });

  it('M-mode ignores satp; M with MPRV=1, MPP=S translates loads/stores', () => {
    const { h, ram, pt } = setup(SV39);
    pt.map(0x7000n, 0xa000_0000n, 2, V | R | W | A | D);
    h.priv = PRV_M;
    expect(fill(h, ram, 0x7000n, MmuAccess.LOAD, mmuIndex(h, false))?.physPage).toBe(0x7000n);
    h.mstatusLo |= (1 << 17) | (PRV_S << 11);
    expect(fill(h, ram, 0x7000n, MmuAccess.LOAD, mmuIndex(h, false))?.physPage).toBe(0xa000_0000n);
    expect(fill(h, ram, 0x7000n, MmuAccess.FETCH, mmuIndex(h, true))?.physPage).toBe(0x7000n);
    expect(mmuIndex(h, true)).toBe(MMU_IDX_M);
  });

  it('satp Bare: identity for S/U, PMP still applies', () => {
    const { h, ram } = setup(SV39);
    h.priv = PRV_M;
    csrWrite(h, 0x180, 0n);
    expect(fill(h, ram, 0x1234_5678n, MmuAccess.STORE, MMU_IDX_U)?.physPage).toBe(0x1234_5000n);
  });
});

describe('permissions and A/D', () => {
  const flagArb = fc.record({ r: fc.boolean(), w: fc.boolean(), x: fc.boolean(), u: fc.boolean(), a: fc.boolean(), d: fc.boolean() });
  it('R/W/X/U × SUM × MXR × access × mode against the spec (4.3.2 steps 5–8)', () => {
    fc.assert(fc.property(flagArb, fc.constantFrom(MmuAccess.LOAD, MmuAccess.STORE, MmuAccess.FETCH),
      fc.constantFrom(MMU_IDX_U, MMU_IDX_S, MMU_IDX_S_SUM), fc.boolean(), fc.constantFrom(SV39, SV32),
      (f, access, idx, mxr, g) => {
        const { h, ram, pt } = setup(g);
        if (mxr) h.mstatusLo |= 1 << 19;
        const flags = V | (f.r ? R : 0n) | (f.w ? W : 0n) | (f.x ? X : 0n) | (f.u ? U : 0n) | (f.a ? A : 0n) | (f.d ? D : 0n);
        const va = 0x40_3000n & (g.xlen === 32 ? 0xffff_ffffn : -1n);
        const leaf = pt.map(va, 0x8_0000_0000n >> (g.xlen === 32 ? 4n : 0n), g.levels - 1, flags);
        const user = idx === MMU_IDX_U;
        const sum = idx === MMU_IDX_S_SUM;
        let ok = !(f.w && !f.r);
        if (ok) ok = f.u ? user || (sum && access !== MmuAccess.FETCH) : !user;
        if (ok) {
          ok = access === MmuAccess.LOAD ? f.r || (f.x && mxr) : access === MmuAccess.STORE ? f.w : f.x;
        }
        const before = pt.read(leaf);
        const r = fill(h, ram, va, access, idx);
        expect(r !== null).toBe(ok);
        const after = pt.read(leaf);
        if (!ok) {
          expect(after).toBe(before);
          return;
        }
        expect(after & A).toBe(A);
        expect((after & D) !== 0n).toBe(f.d || access === MmuAccess.STORE);
        expect(after & ~(A | D)).toBe(before & ~(A | D));
        let prot = 0;
        if (f.r || (f.x && mxr)) prot |= PROT_READ;
        if (f.w && (f.d || access === MmuAccess.STORE)) prot |= PROT_WRITE;
        if (f.x && !(f.u && !user)) prot |= PROT_EXEC;
        expect(r?.prot).toBe(prot);
      }), { numRuns: 300 });
  });

  it('faults record the page-fault cause of the access type and tval = vaddr', () => {
    const { h, ram, pt } = setup(SV39);
    pt.map(0x9000n, RAM_BASE, 2, V | R | X | A | D); // 0xa000 shares the tables but its PTE is invalid
    for (const [acc, cause] of [[MmuAccess.FETCH, 12], [MmuAccess.LOAD, 13], [MmuAccess.STORE, 15]] as const) {
      h.pendingException = null;
      expect(() => riscvTlbFill(h, ram, 0xa000n, acc, MMU_IDX_S, false)).toThrow(CpuLoopExit);
      expect(h.pendingException).toEqual({ cause, tval: 0xa000n, interrupt: false });
    }
  });
});
