/**
 * The CPU execution events on the Machine (`insn`, `tb`, `mem:read`, `mem:write`, `exception`,
 * `interrupt`), each naming its CPU, with the Debian-built fixtures of test/fixtures/riscv on the virt
 * board: what they report, that they are free when unused (no CPU hook installed without a listener,
 * CPUs added later covered), and that listening changes nothing in the run (icount, output, time).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createVirtMachine, type RiscvVirtMachine } from '../../src/hw/riscv/virt.js';
import { CpuState } from '../../src/hw/core/cpu.js';
import { MemoryRegion } from '../../src/memory/region.js';
import { RiscvCpu } from '../../src/target/riscv/cpu.js';
import {
  Machine, type ExceptionEvent, type InsnEvent, type InterruptEvent, type MachineEvents, type MemAccessEvent, type MmioAccess,
} from '../../src/machine/machine.js';
import { addi, code, j, X } from './rv-asm.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(here, '../fixtures/riscv', name)));
const HELLO = fixture('hello.elf');
const TRAPS = fixture('traps.elf');
const GREETING = 'Hello from softboard\n';
/** UART (ns16550a) THR and LSR on virt; M-mode without paging, so virtual = physical. */
const UART_THR = 0x1000_0000n, UART_LSR = 0x1000_0005n;
/** The boot stub's instructions (QEMU virt reset vector at 0x1000) before the kernel entry, 0x8000_0000 (link.ld). */
const STUB = 6, KERNEL = 0x8000_0000n;

const boot = (kernel: Uint8Array, cpus = 1): RiscvVirtMachine => createVirtMachine({ bios: 'none', kernel, cpus });

const CPU_EVENTS = ['insn', 'tb', 'mem:read', 'mem:write', 'exception', 'interrupt'] as const;

/** Listeners each CPU's hook emitter has, over all its events. */
function cpuHookListeners(m: Machine): number {
  let n = 0;
  for (const cpu of m.cpus) {
    if (!(cpu instanceof CpuState)) continue;
    for (const e of CPU_EVENTS) n += cpu.hooks.listenerCount(e);
  }
  return n;
}

/** Whether the execution engine of any CPU has hooks installed (TcgExecutor's private `hooks`). */
function engineHooked(m: Machine): boolean {
  return m.cpus.some((cpu) => cpu instanceof CpuState && cpu.tcg['hooks'] !== null);
}

/** What a run leaves behind, to compare runs. */
function endState(m: RiscvVirtMachine): unknown {
  return {
    instructions: m.instructions, timeNs: m.virtualTimeNs, output: m.serial.output, shutdown: m.shutdownInfo,
    pc: m.getRegister('pc'), mepc: m.getRegister('mepc'), mcause: m.getRegister('mcause'), mtime: m.mtimer.getTime(),
  };
}

describe('insn and tb events', () => {
  it('report every instruction the CPU runs, with its pc', () => {
    const m = boot(HELLO);
    const seen: InsnEvent[] = [];
    m.on('insn', (e) => seen.push(e));
    const r = m.run({ instructions: 1_000_000 });
    expect(r.reason).toBe('shutdown');
    expect(m.serial.output).toBe(GREETING);
    expect(seen.length).toBe(r.instructions);
    expect(seen.length).toBe(m.cpus[0]!.icount);
    expect(seen.every((e) => e.cpu === 0)).toBe(true);
    // The boot stub in the reset ROM, then the kernel's first instruction.
    expect(seen[0]!.pc).toBe(0x1000n);
    expect(seen.slice(0, STUB).every((e) => e.pc >= 0x1000n && e.pc < 0x2000n)).toBe(true);
    expect(seen[STUB]!.pc).toBe(KERNEL);
  });

  it('also report instructions that fault (started, not retired): insn events = retired + exceptions', () => {
    const m = boot(TRAPS);
    let insns = 0, exceptions = 0;
    m.on('insn', () => { insns++; });
    m.on('exception', () => { exceptions++; });
    const r = m.run({ instructions: 20_000_000 });
    expect(m.serial.output).toBe('PASS traps\n');
    expect(exceptions).toBe(11); // the 11 synchronous traps of traps.S
    expect(insns).toBe(r.instructions + exceptions);
  });

  it('tb events give each block entered, whose instructions cover the run', () => {
    const m = boot(HELLO);
    const tbs: MachineEvents['tb'][0][] = [];
    m.on('tb', (e) => tbs.push(e));
    const r = m.run({ instructions: 1_000_000 });
    expect(r.reason).toBe('shutdown');
    expect(tbs.length).toBeGreaterThan(10);
    expect(tbs[0]).toMatchObject({ cpu: 0, pc: 0x1000n });
    expect(tbs.some((t) => t.pc === KERNEL)).toBe(true);
    expect(tbs.every((t) => t.cpu === 0 && t.insns >= 1)).toBe(true);
    // The last block stops early (the shutdown write), so the blocks hold at least what ran.
    expect(tbs.reduce((n, t) => n + t.insns, 0)).toBeGreaterThanOrEqual(r.instructions);
  });

  it('while insn is listened, blocks are one instruction and each tb pairs with an insn', () => {
    const m = boot(HELLO);
    const log: string[] = [];
    m.on('tb', (e) => log.push(`tb ${e.pc} ${e.insns}`));
    m.on('insn', (e) => log.push(`insn ${e.pc}`));
    m.run({ instructions: 1_000_000 });
    expect(log.length % 2).toBe(0);
    for (let i = 0; i < log.length; i += 2) {
      const pc = log[i + 1]!.slice('insn '.length);
      expect(log[i]).toBe(`tb ${pc} 1`);
    }
  });
});

describe('mem:read and mem:write events', () => {
  it('see the UART THR stores, as the mmio event does, and the LSR polls', () => {
    const m = boot(HELLO);
    const writes: MemAccessEvent[] = [], reads: MemAccessEvent[] = [], mmio: MmioAccess[] = [];
    m.on('mem:write', (e) => writes.push(e));
    m.on('mem:read', (e) => reads.push(e));
    m.on('mmio', (a) => mmio.push(a));
    expect(m.run({ instructions: 1_000_000 }).reason).toBe('shutdown');
    const thr = writes.filter((w) => w.addr === UART_THR);
    expect(thr.every((w) => w.cpu === 0 && w.size === 1)).toBe(true);
    expect(String.fromCharCode(...thr.map((w) => Number(w.value)))).toBe(GREETING);
    const mmioThr = mmio.filter((a) => a.kind === 'write' && a.addr === UART_THR).map((a) => a.value);
    expect(thr.map((w) => w.value)).toEqual(mmioThr);
    // Every LSR poll the device saw, the CPU hook saw too, with the same value.
    const lsr = reads.filter((e) => e.addr === UART_LSR).map((e) => e.value);
    expect(lsr).toEqual(mmio.filter((a) => a.kind === 'read' && a.addr === UART_LSR).map((a) => a.value));
    expect(lsr.length).toBeGreaterThanOrEqual(GREETING.length);
    // RAM accesses are seen too (the stack save of ra in main), unlike mmio.
    expect(writes.some((w) => w.addr >= KERNEL && w.size === 8)).toBe(true);
  });
});

describe('exception and interrupt events', () => {
  it('give the pc and cause of each trap of traps.S, and the timer interrupt', () => {
    const m = boot(TRAPS);
    const log: (ExceptionEvent | (InterruptEvent & { irq: true }))[] = [];
    m.on('exception', (e) => log.push(e));
    m.on('interrupt', (e) => log.push({ ...e, irq: true }));
    expect(m.run({ instructions: 20_000_000 }).reason).toBe('shutdown');
    expect(m.serial.output).toBe('PASS traps\n');
    const at = (sym: string): bigint => {
      const a = m.lookupSymbol(sym);
      if (a === undefined) throw new Error(`no symbol ${sym}`);
      return a;
    };
    // Cases 1-13 of test/fixtures/riscv/traps.S, with the causes the privileged spec gives them.
    const exc = (sym: string, cause: number): ExceptionEvent => ({ cpu: 0, pc: at(sym), cause });
    expect(log.slice(0, -1)).toEqual([
      exc('ecall_m', 11), exc('illegal_m', 2), exc('ebreak_m', 3), exc('lr_mis', 4), exc('s_ecall', 9),
      exc('s_csr', 2), exc('u_ecall', 8), exc('u_csr', 2), exc('u_deleg', 8), exc('s_handler_ecall', 9),
      { cpu: 0, cause: 7, irq: true }, // case 12: machine timer interrupt
    ]);
    // Case 13, misaligned AMO: 6, or 7 (access fault), both allowed.
    expect(log.at(-1)).toMatchObject({ cpu: 0, pc: at('amo_mis') });
    expect([6, 7]).toContain((log.at(-1) as ExceptionEvent).cause);
  });

  it('once: fires for the first trap only, then unhooks the CPU', () => {
    const m = boot(TRAPS);
    const seen: ExceptionEvent[] = [];
    m.once('exception', (e) => seen.push(e));
    expect(cpuHookListeners(m)).toBe(1);
    m.run({ instructions: 20_000_000 });
    expect(seen).toEqual([{ cpu: 0, pc: m.lookupSymbol('ecall_m'), cause: 11 }]);
    expect(m.listenerCount('exception')).toBe(0);
    expect(cpuHookListeners(m)).toBe(0);
    expect(engineHooked(m)).toBe(false);
  });

  it('work alongside a -d int,in_asm trace, each unsubscribing only its own hooks', () => {
    const m = boot(TRAPS);
    const lines: string[] = [];
    const trace = m.trace({ items: 'int,in_asm', sink: (item, text) => { if (item === 'int') lines.push(text); } });
    let exceptions = 0;
    const onExc = (): void => { exceptions++; };
    m.on('exception', onExc);
    m.run({ instructions: 20_000_000 });
    expect(m.serial.output).toBe('PASS traps\n');
    expect(exceptions).toBe(11);
    expect(lines.length).toBe(12); // the 11 exceptions and the interrupt
    trace.stop();
    const hart = m.harts[0]!;
    expect(hart.hooks.listenerCount('exception')).toBe(1);
    expect(hart.hooks.listenerCount('tb')).toBe(0);
    m.off('exception', onExc);
    expect(cpuHookListeners(m)).toBe(0);
    expect(engineHooked(m)).toBe(false);
  });
});

describe('free when unused', () => {
  it('installs no CPU hook without a listener, one per CPU while listened, none after the last goes', () => {
    const m = boot(HELLO, 2);
    expect(cpuHookListeners(m)).toBe(0);
    m.run({ instructions: 50 }); // engines exist now
    expect(engineHooked(m)).toBe(false);
    // Machine events that are not CPU hooks install nothing.
    const noop = (): void => undefined;
    for (const e of ['mmio', 'irq', 'halt', 'output', 'reset', 'shutdown'] as const) m.on(e, noop);
    expect(cpuHookListeners(m)).toBe(0);
    const a = (): void => undefined, b = (): void => undefined;
    m.on('insn', a);
    m.addListener('insn', b);
    m.on('mem:write', a);
    expect(m.harts.map((h) => h.hooks.listenerCount('insn'))).toEqual([1, 1]);
    expect(m.harts.map((h) => h.hooks.listenerCount('mem:write'))).toEqual([1, 1]);
    expect(engineHooked(m)).toBe(true);
    m.off('insn', a);
    expect(m.harts.map((h) => h.hooks.listenerCount('insn'))).toEqual([1, 1]); // b still listens
    m.removeListener('insn', b);
    expect(m.harts.map((h) => h.hooks.listenerCount('insn'))).toEqual([0, 0]);
    expect(cpuHookListeners(m)).toBe(2); // mem:write on each
    m.removeAllListeners('mem:write');
    expect(cpuHookListeners(m)).toBe(0);
    expect(engineHooked(m)).toBe(false);
    // The other machine events were left alone.
    expect(m.listenerCount('mmio')).toBe(1);
    m.on('exception', a).on('tb', b);
    m.removeAllListeners();
    expect(cpuHookListeners(m)).toBe(0);
    expect(m.listenerCount('mmio')).toBe(0);
  });

  it('subscribes a CPU added after the listener', () => {
    const m = new Machine({ backend: 'closure' });
    m.sysmem.addSubregion(KERNEL, MemoryRegion.ram(m, 'ram', 0x1000));
    const seen: InsnEvent[] = [];
    m.on('insn', (e) => seen.push(e));
    const cpu = new RiscvCpu({ resetVector: KERNEL });
    cpu.realize();
    m.addCpu(cpu);
    expect(cpu.hooks.listenerCount('insn')).toBe(1);
    m.writeMemory(KERNEL, code([addi(X.a0, X.a0, 1), j(-4)]));
    expect(m.run({ instructions: 100 }).reason).toBe('instructions');
    expect(seen.length).toBe(100);
    expect(seen.slice(0, 4)).toEqual([
      { cpu: 0, pc: KERNEL }, { cpu: 0, pc: KERNEL + 4n }, { cpu: 0, pc: KERNEL }, { cpu: 0, pc: KERNEL + 4n },
    ]);
    expect(cpu.getRegister('a0')).toBe(50n);
    m.removeAllListeners('insn');
    expect(cpu.hooks.listenerCount('insn')).toBe(0);
    m.addCpu(new RiscvCpu({ mhartid: 1n })); // with no listener left, nothing to subscribe
    expect(cpuHookListeners(m)).toBe(0);
  });

  it('names the CPU on a 2-hart machine', () => {
    // traps.elf sleeps in WFI (case 12), so hart 1 gets its turn before the end (hello.elf ends
    // within hart 0's first run slice).
    const m = boot(TRAPS, 2);
    const counts = [0, 0];
    const writers = new Set<number>();
    m.on('insn', (e) => { counts[e.cpu]!++; });
    m.on('mem:write', (e) => { if (e.addr === UART_THR) writers.add(e.cpu); });
    m.on('exception', (e) => { counts[e.cpu]!--; }); // faulting instructions are seen but not counted
    expect(m.run({ instructions: 20_000_000 }).reason).toBe('shutdown');
    expect(m.serial.output).toBe('PASS traps\n');
    // Hart 1 runs the boot stub and crt.S up to its WFI park; hart 0 does the printing.
    expect(counts[1]).toBeGreaterThan(0);
    expect(counts).toEqual(m.cpus.map((c) => c.icount));
    expect([...writers]).toEqual([0]);
  });
});

describe('listening changes nothing in the run', () => {
  /** traps.elf runs 20.8 k instructions; this point is past its last trap, before its final print. */
  const POINT = 20_700;
  const final = (m: RiscvVirtMachine): unknown => ({ output: m.serial.output, shutdown: m.shutdownInfo, pc: m.getRegister('pc') });
  const baseline = (() => {
    let b: { atPoint: unknown; atEnd: unknown } | undefined;
    return (): { atPoint: unknown; atEnd: unknown } => {
      if (b === undefined) {
        const m = boot(TRAPS);
        expect(m.run({ instructions: POINT }).reason).toBe('instructions');
        const atPoint = endState(m);
        m.run({ instructions: 20_000_000 });
        b = { atPoint, atEnd: final(m) };
      }
      return b;
    };
  })();

  it('with listeners added and removed between runs: same icount, output, time and state', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ n: fc.integer({ min: 1, max: 6000 }), events: fc.subarray([...CPU_EVENTS]) }), { minLength: 1, maxLength: 6 }),
      (slices) => {
        const m = boot(TRAPS);
        const counts = new Map<string, number>();
        const fns = new Map(CPU_EVENTS.map((e) => [e, (): void => { counts.set(e, (counts.get(e) ?? 0) + 1); }]));
        for (const { n: want, events } of slices) {
          const n = Math.min(want, POINT - m.instructions);
          if (n === 0) break;
          for (const e of CPU_EVENTS) {
            if (events.includes(e) && m.listenerCount(e) === 0) m.on(e, fns.get(e)!);
            if (!events.includes(e)) m.off(e, fns.get(e));
          }
          counts.clear();
          const r = m.run({ instructions: n });
          expect(r).toMatchObject({ reason: 'instructions', instructions: n });
          // Instruction-exact while listened: the insn events of the slice are its instructions,
          // plus the faulting ones (seen when exception is listened too).
          if (events.includes('insn') && events.includes('exception')) {
            expect(counts.get('insn') ?? 0).toBe(n + (counts.get('exception') ?? 0));
          }
        }
        for (const e of CPU_EVENTS) m.off(e, fns.get(e));
        expect(cpuHookListeners(m)).toBe(0);
        m.run({ instructions: POINT - m.instructions });
        expect(endState(m)).toEqual(baseline().atPoint);
        m.run({ instructions: 20_000_000 });
        expect(final(m)).toEqual(baseline().atEnd);
      },
    ), { numRuns: 12 });
  });

  it('with listeners added and removed from inside callbacks, mid-block', () => {
    const m = boot(TRAPS);
    let tbs = 0, insns = 0;
    const onInsn = (): void => {
      insns++;
      if (insns === 777) m.off('insn', onInsn); // removed in the middle of a run slice
    };
    const onTb = (): void => {
      if (++tbs === 300) m.on('insn', onInsn);
      if (tbs === 2000) m.off('tb', onTb);
    };
    m.on('tb', onTb);
    m.run({ instructions: POINT });
    expect([tbs, insns]).toEqual([2000, 777]);
    expect(cpuHookListeners(m)).toBe(0);
    expect(endState(m)).toEqual(baseline().atPoint);
  });

  // A stop a device requests (here the sifive_test PASS store, then `j .`) takes effect right after the
  // device access, whatever the TB boundaries: a device access ends its TB, as in QEMU's icount mode
  // (cpu_io_recompile). With `insn` listened every TB is one instruction long; without, the store sits
  // in the middle of a longer TB.
  it('stops at the shutdown store with the same icount whether insn is listened or not', () => {
    const counts = [false, true].map((listen) => {
      const m = boot(HELLO);
      if (listen) m.on('insn', () => undefined);
      m.run({ instructions: 1_000_000 });
      return m.instructions;
    });
    expect(counts[0]).toBe(counts[1]);
  });
});
