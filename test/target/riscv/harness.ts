/**
 * A minimal machine for RISC-V CPU tests: one RiscvCpu, flat RAM at `base`, TBs translated by the
 * RISC-V frontend and run by the reference IR interpreter (src/tcg/interp.ts), with a loop that handles
 * CpuLoopExit as the real one does (restore the pc from insn_start, deliver the exception).
 * Everything outside RAM is a bus error. The CPU runs in M-mode with Bare translation.
 */
import { TcgContext } from '../../../src/tcg/context.js';
import { interpret } from '../../../src/tcg/interp.js';
import type { TbRuntime } from '../../../src/tcg/backend/backend.js';
import { MO_SIGN, MO_SIZE } from '../../../src/tcg/ir.js';
import { CpuLoopExit, MmuAccess } from '../../../src/accel/tcg/tcg-cpu-ops.js';
import { RiscvCpu, type RiscvCpuOptions } from '../../../src/target/riscv/cpu.js';
import type { Insn } from './asm.js';

export class TestMachine {
  readonly cpu: RiscvCpu;
  readonly ram: Uint8Array;
  readonly view: DataView;
  /** Number of TBs translated and number of traps taken. */
  tbs = 0;
  traps = 0;

  constructor(readonly base = 0x80000000n, size = 0x10000, options: RiscvCpuOptions = {}) {
    this.ram = new Uint8Array(size);
    this.view = new DataView(this.ram.buffer);
    this.cpu = new RiscvCpu({
      resetVector: base,
      ...options,
      phys: {
        readPhys64: (a) => this.view.getBigUint64(this.off(a, 8), true),
        readPhys32: (a) => this.view.getUint32(this.off(a, 4), true),
        writePhys64: (a, v) => this.view.setBigUint64(this.off(a, 8), v, true),
        writePhys32: (a, v) => this.view.setUint32(this.off(a, 4), v, true),
      },
    });
    this.rt = this.makeRuntime();
  }

  private off(addr: bigint, size: number): number {
    const o = addr - this.base;
    if (o < 0n || o + BigInt(size) > BigInt(this.ram.length)) throw new Error(`bus error at 0x${addr.toString(16)}`);
    return Number(o);
  }

  private inRam(addr: bigint, size: number): boolean {
    const o = addr - this.base;
    return o >= 0n && o + BigInt(size) <= BigInt(this.ram.length);
  }

  /** Writes instructions at `addr` (default: base); returns the address after them. */
  load(code: readonly Insn[], addr = this.base): bigint {
    let a = addr;
    for (const i of code) {
      if (i.size === 2) this.view.setUint16(this.off(a, 2), i.bits, true);
      else this.view.setUint32(this.off(a, 4), i.bits >>> 0, true);
      a += BigInt(i.size);
    }
    return a;
  }

  private readonly rt: TbRuntime;

  private makeRuntime(): TbRuntime {
    const m = this;
    const rt: TbRuntime = {
      cpu: m.cpu,
      env: m.cpu.env,
      envI32: m.cpu.envI32,
      envView: m.cpu.envView,
      loadHi: 0,
      curInsn: 0,
      load(lo, hi, memop, _mmuIdx) {
        const addr = m.addrOf(lo, hi);
        const size = 1 << (memop & MO_SIZE);
        if (!m.inRam(addr, size)) m.cpu.raiseBusError(addr, MmuAccess.LOAD);
        const o = Number(addr - m.base);
        let v = 0n;
        for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(m.ram[o + k]!);
        if (memop & MO_SIGN) v = BigInt.asUintN(64, BigInt.asIntN(size * 8, v));
        rt.loadHi = Number((v >> 32n) & 0xffffffffn) | 0;
        return Number(v & 0xffffffffn) | 0;
      },
      store(lo, hi, vlo, vhi, memop, _mmuIdx) {
        const addr = m.addrOf(lo, hi);
        const size = 1 << (memop & MO_SIZE);
        if (!m.inRam(addr, size)) m.cpu.raiseBusError(addr, MmuAccess.STORE);
        const o = Number(addr - m.base);
        let v = (BigInt(vhi >>> 0) << 32n) | BigInt(vlo >>> 0);
        for (let k = 0; k < size; k++) { m.ram[o + k] = Number(v & 0xffn); v >>= 8n; }
      },
    };
    return rt;
  }

  private addrOf(lo: number, hi: number): bigint {
    const a = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    return this.cpu.xlen === 32 ? a & 0xffffffffn : a;
  }

  /** Translates the TB at the current pc (for IR inspection). */
  translate(maxInsns = 512): { ir: ReturnType<TcgContext['finish']>; size: number; nbInsns: number } {
    const cpu = this.cpu;
    const st = cpu.getTbState();
    const ctx = new TcgContext(cpu.globals, cpu.addrType);
    const fetch16 = (va: bigint, probe = false): number => {
      if (!this.inRam(va, 2)) {
        if (probe) return -1;
        cpu.raiseBusError(va, MmuAccess.FETCH);
      }
      return this.view.getUint16(Number(va - this.base), true);
    };
    const r = cpu.translate(ctx, {
      pc: st.pc, flags: st.flags, maxInsns,
      fetch16,
      fetch32: (va) => (fetch16(va) | (fetch16(va + 2n) << 16)) >>> 0,
    });
    return { ir: ctx.finish(), size: r.size, nbInsns: r.nbInsns };
  }

  /**
   * Runs one TB of at most `maxInsns` instructions, handling a guest exception like the loop:
   * returns the number of instructions that completed.
   */
  stepTb(maxInsns: number): number {
    const cpu = this.cpu;
    let ir;
    try {
      ir = this.translate(maxInsns);
    } catch (e) {
      if (!(e instanceof CpuLoopExit)) throw e;
      cpu.doInterrupt();
      this.traps++;
      return 0;
    }
    this.tbs++;
    this.rt.curInsn = 0;
    try {
      interpret(ir.ir, this.rt);
      return ir.nbInsns;
    } catch (e) {
      if (!(e instanceof CpuLoopExit)) throw e;
      const starts = ir.ir.ops.filter((op) => op.opc === 'insn_start');
      if (!e.restored) cpu.restoreStateToOpc(starts[this.rt.curInsn]!.c);
      cpu.doInterrupt();
      this.traps++;
      return this.rt.curInsn;
    }
  }

  /** Runs until `n` instructions completed (or traps counted as one step each), or the CPU halts. */
  run(n: number): void {
    let done = 0;
    let guard = 0;
    while (done < n && !this.cpu.halted) {
      const k = this.stepTb(n - done);
      done += Math.max(k, 1);
      if (++guard > 100000) throw new Error('TestMachine.run: no progress');
    }
  }

  /** Loads `code` at base, runs until the pc reaches the end of it (or `limit` instructions). */
  exec(code: readonly Insn[], limit = 10000): void {
    const end = this.load(code);
    let steps = 0;
    while (this.cpu.pc !== end && !this.cpu.halted) {
      this.stepTb(Math.max(1, Math.floor(Number(end - this.cpu.pc) / 4)));
      if (++steps > limit) throw new Error(`TestMachine.exec: pc 0x${this.cpu.pc.toString(16)} never reached the end`);
    }
  }
}
