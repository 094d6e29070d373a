/**
 * A straightforward interpreter of the toy ISA: the model the execution loop is checked against.
 * Physical memory is one RAM block at `ramBase`; anything else is a bus error.
 */
import {
  CAUSE_FETCH_BUS, CAUSE_FETCH_PF, CAUSE_ILLEGAL, CAUSE_IRQ, CAUSE_LOAD_BUS, CAUSE_LOAD_PF, CAUSE_MISALIGNED_LOAD,
  CAUSE_MISALIGNED_STORE, CAUSE_RAISE, CAUSE_STORE_BUS, CAUSE_STORE_PF, Op,
} from './isa.js';
import type { ToyPte } from './toy-cpu.js';

const M64 = 0xffffffffffffffffn;
const PAGE = 0xfffn;
const LOAD = 0, STORE = 1, FETCH = 2;

class Trap {
  constructor(readonly cause: number, readonly tval: bigint) {}
}

/** Architectural state of the toy machine. */
export interface ToyState {
  regs: bigint[];
  pc: bigint;
  epc: bigint;
  cause: bigint;
  tval: bigint;
  tvec: bigint;
  ie: number;
  mode: number;
  halted: boolean;
}

export class ToyModel {
  state: ToyState = { regs: Array<bigint>(8).fill(0n), pc: 0n, epc: 0n, cause: 0n, tval: 0n, tvec: 0n, ie: 0, mode: 0, halted: false };
  icount = 0;
  pageTable: Map<bigint, ToyPte> | null = null;
  irqLevel = false;

  constructor(readonly ram: Uint8Array, readonly ramBase: bigint) {}

  private translate(vaddr: bigint, access: number, tval: bigint): bigint {
    if (this.pageTable === null) return vaddr;
    const pte = this.pageTable.get(vaddr & ~PAGE);
    if (!pte || (pte.prot & (1 << access)) === 0) {
      throw new Trap(access === FETCH ? CAUSE_FETCH_PF : access === LOAD ? CAUSE_LOAD_PF : CAUSE_STORE_PF, tval);
    }
    return pte.ppage | (vaddr & PAGE);
  }

  private ramIndex(phys: bigint): number {
    const off = phys - this.ramBase;
    return off >= 0n && off < BigInt(this.ram.length) ? Number(off) : -1;
  }

  /** Physical addresses of the bytes of an access, checking both pages first (page faults before bus errors). */
  private physBytes(vaddr: bigint, size: number, access: number): bigint[] {
    const last = (vaddr + BigInt(size - 1)) & M64;
    const p1 = this.translate(vaddr, access, vaddr);
    const cross = (last & ~PAGE) !== (vaddr & ~PAGE);
    const p2 = cross ? this.translate(last & ~PAGE, access, last & ~PAGE) : 0n;
    const out: bigint[] = [];
    for (let k = 0; k < size; k++) {
      const a = (vaddr + BigInt(k)) & M64;
      out.push((a & ~PAGE) === (vaddr & ~PAGE) ? (p1 & ~PAGE) | (a & PAGE) : (p2 & ~PAGE) | (a & PAGE));
    }
    return out;
  }

  private load(vaddr: bigint, size: number, access: number, busCause: number): bigint {
    const phys = this.physBytes(vaddr, size, access);
    let v = 0n;
    phys.forEach((p, k) => {
      const i = this.ramIndex(p);
      if (i < 0) throw new Trap(busCause, k === 0 ? vaddr : (vaddr + BigInt(k)) & M64);
      v |= BigInt(this.ram[i]!) << BigInt(8 * k);
    });
    return v;
  }

  private store(vaddr: bigint, size: number, value: bigint): void {
    const phys = this.physBytes(vaddr, size, STORE);
    phys.forEach((p, k) => {
      const i = this.ramIndex(p);
      if (i < 0) throw new Trap(CAUSE_STORE_BUS, k === 0 ? vaddr : (vaddr + BigInt(k)) & M64);
      this.ram[i] = Number((value >> BigInt(8 * k)) & 0xffn);
    });
  }

  /** Takes the interrupt if pending and enabled (the loop checks at TB boundaries; tests align on them). */
  checkInterrupt(): boolean {
    const s = this.state;
    if (!this.irqLevel || s.ie === 0) return false;
    s.cause = BigInt(CAUSE_IRQ);
    s.ie = 0;
    s.epc = s.pc;
    s.pc = s.tvec;
    return true;
  }

  /** Executes one instruction (or takes its trap). Returns false if halted. */
  step(): boolean {
    const s = this.state;
    if (s.halted) {
      if (!this.irqLevel) return false;
      s.halted = false;
    }
    try {
      // Fetch: a page fault of the second page reports that page's start.
      const w = Number(this.load(s.pc, 4, FETCH, CAUSE_FETCH_BUS));
      this.exec(w);
      this.icount++;
    } catch (e) {
      if (!(e instanceof Trap)) throw e;
      s.cause = BigInt(e.cause);
      s.tval = e.tval & M64;
      s.epc = s.pc;
      s.pc = s.tvec;
    }
    return true;
  }

  private exec(w: number): void {
    const s = this.state, r = s.regs;
    const op = w & 0xff, rd = (w >>> 8) & 7, rs = (w >>> 12) & 7, imm = BigInt((w << 0) >> 16);
    const next = (s.pc + 4n) & M64;
    const ea = (r[rs]! + imm) & M64;
    const sx = (v: bigint, bits: number): bigint => BigInt.asUintN(64, BigInt.asIntN(bits, v));
    switch (op as Op) {
      case Op.LI: r[rd] = imm & M64; break;
      case Op.ADD: r[rd] = (r[rd]! + r[rs]! + imm) & M64; break;
      case Op.XOR: r[rd] = r[rd]! ^ r[rs]!; break;
      case Op.SHL: r[rd] = (r[rd]! << (imm & 63n)) & M64; break;
      case Op.LUI: r[rd] = (imm << 16n) & M64; break;
      case Op.ADDI: r[rd] = ea; break;
      case Op.LB: r[rd] = sx(this.load(ea, 1, LOAD, CAUSE_LOAD_BUS), 8); break;
      case Op.LW: r[rd] = sx(this.load(ea, 4, LOAD, CAUSE_LOAD_BUS), 32); break;
      case Op.LQ: r[rd] = this.load(ea, 8, LOAD, CAUSE_LOAD_BUS); break;
      case Op.LWA:
        if (ea & 3n) throw new Trap(CAUSE_MISALIGNED_LOAD, ea);
        r[rd] = sx(this.load(ea, 4, LOAD, CAUSE_LOAD_BUS), 32);
        break;
      case Op.LHU: r[rd] = this.load(ea, 2, LOAD, CAUSE_LOAD_BUS); break;
      case Op.LWBE: {
        const v = this.load(ea, 4, LOAD, CAUSE_LOAD_BUS);
        const be = ((v & 0xffn) << 24n) | ((v & 0xff00n) << 8n) | ((v >> 8n) & 0xff00n) | (v >> 24n);
        r[rd] = sx(be, 32);
        break;
      }
      case Op.SB: this.store(ea, 1, r[rd]!); break;
      case Op.SW: this.store(ea, 4, r[rd]!); break;
      case Op.SQ: this.store(ea, 8, r[rd]!); break;
      case Op.SH: this.store(ea, 2, r[rd]!); break;
      case Op.SWA:
        if (ea & 3n) throw new Trap(CAUSE_MISALIGNED_STORE, ea);
        this.store(ea, 4, r[rd]!);
        break;
      case Op.BNZ: s.pc = r[rd] !== 0n ? (s.pc + imm * 4n) & M64 : next; return;
      case Op.JMP: s.pc = (s.pc + imm * 4n) & M64; return;
      case Op.JR: s.pc = r[rs]!; return;
      case Op.RAISE: throw new Trap(CAUSE_RAISE + Number(imm & 0xffn), 0n);
      case Op.HALT: s.pc = next; s.halted = true; return;
      case Op.MFEPC: r[rd] = s.epc; break;
      case Op.MTTVEC: s.tvec = r[rs]!; break;
      case Op.FENCEI: break;
      case Op.MFCAUSE: r[rd] = s.cause; break;
      case Op.EI: s.ie = 1; break;
      case Op.MFTVAL: r[rd] = s.tval; break;
      default: throw new Trap(CAUSE_ILLEGAL, BigInt(w >>> 0));
    }
    s.pc = next;
  }

  /**
   * Runs up to `n` instructions (traps count as steps that retire nothing); returns instructions retired.
   * Stops, as the execution loop does (MAX_EXCEPTIONS_WITHOUT_PROGRESS, reason 'stalled'), after 2^16
   * traps in a row that retire nothing (a trap vector that itself faults).
   */
  run(n: number): number {
    const start = this.icount;
    let stall = 0;
    while (this.icount - start < n) {
      const before = this.icount;
      if (!this.step()) break;
      stall = this.icount === before ? stall + 1 : 0;
      if (stall >= 1 << 16) break;
    }
    return this.icount - start;
  }
}
