/**
 * The machine's `irq` and `halt` events: the irq-wfi fixture (a timer interrupt awaited with WFI, then a
 * UART receive interrupt through the PLIC awaited with WFI, up to 10 ms, until the test types a byte) gives the
 * sequence of line changes and halts a firmware tester sees; `run({ until: 'halt' })` agrees with the
 * `halt` events; without listeners nothing is emitted and the run is the same; a defineBoard machine
 * without a PLIC reports its device line and the hart's MEIP.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createVirtMachine, type RiscvVirtMachine } from '../../src/hw/riscv/virt.js';
import { defineBoard } from '../../src/hw/core/board.js';
import { defineIrqRegister } from '../helpers/irq-register.js';
import type { HaltEvent, IrqEvent, Machine } from '../../src/machine/machine.js';
import { bne, code, csrrs, j, li, sw, X } from './rv-asm.js';

const IRQ_WFI = new Uint8Array(readFileSync(new URL('../fixtures/riscv/irq-wfi.elf', import.meta.url)));
const WFI = 0x10500073;

function boot(): RiscvVirtMachine {
  return createVirtMachine({ bios: 'none', kernel: IRQ_WFI, rtc: { base: '2024-01-01T00:00:00' } });
}

/** One line per event, in a form a person reads: `cpu0 MTIP 0`, `uart0 -> 10 1`, `halt cpu0`. */
function record(m: Machine): { log: string[]; halts: HaltEvent[]; times: Map<string, number> } {
  const log: string[] = [];
  const halts: HaltEvent[] = [];
  const times = new Map<string, number>();
  m.on('irq', (e: IrqEvent) => {
    const line = e.kind === 'cpu' ? `cpu${e.cpu} ${e.name} ${+e.level}` : `${e.device} -> ${e.source} ${+e.level}`;
    log.push(line);
    if (!times.has(line)) times.set(line, m.virtualTimeNs);
  });
  m.on('halt', (e) => {
    log.push(`halt cpu${e.cpu}`);
    halts.push(e);
  });
  return { log, halts, times };
}

const word = (m: Machine, addr: bigint): number => new DataView(m.readMemory(addr, 4).buffer).getUint32(0, true);

describe('irq and halt events (virt, irq-wfi fixture)', () => {
  it('report the timer wait, then the UART receive interrupt, in order', () => {
    const m = boot();
    const { log, halts, times } = record(m);
    // Up to the prompt (the first WFI's halt lets the clock jump to the timer), then up to the WFI
    // that waits for input (`until: 'halt'` stops there instead of jumping to the 10 ms timeout).
    expect(m.run({ until: () => m.serial.output === 'wait\n', timeoutMs: 20_000 }).reason).toBe('until');
    let r = m.run({ until: 'halt', timeoutMs: 20_000 });
    expect(r.reason).toBe('halt');
    expect(m.serial.output).toBe('wait\n');
    expect(log).toEqual([
      'cpu0 MTIP 0', // mtimecmp = mtime + 1000 (MTIP was high since reset: mtimecmp = 0)
      'halt cpu0', // first WFI
      'cpu0 MTIP 1', // 100 us later
      'cpu0 MTIP 0', // the handler sets mtimecmp = -1
      'halt cpu0', // second WFI, waiting for the UART (the timeout armed meanwhile left MTIP low)
    ]);
    // Each halt is reported with the pc it resumes at: right after a WFI.
    for (const h of halts) expect(word(m, h.pc - 4n)).toBe(WFI);
    expect(halts[1]!.pc).not.toBe(halts[0]!.pc);
    // The timer fired 1000 mtime ticks (10 MHz: 100 us) after it was armed, a few instructions before the WFI.
    const wait = times.get('cpu0 MTIP 1')! - halts[0]!.timeNs;
    expect(wait).toBeGreaterThan(99_000);
    expect(wait).toBeLessThanOrEqual(100_000);

    log.length = 0;
    m.serial.feed('x');
    r = m.run({ timeoutMs: 20_000 });
    expect(r.reason).toBe('shutdown');
    expect(m.shutdownInfo).toEqual({ kind: 'pass', status: 0 });
    expect(m.serial.output).toBe('wait\ngot x\n');
    expect(log).toEqual([
      'uart0 -> 10 1', // the byte arrives: the UART raises PLIC source 10 ...
      'cpu0 MEIP 1', // ... which raises hart 0's machine external interrupt
      'cpu0 MEIP 0', // the handler claims source 10
      'uart0 -> 10 0', // and reads the byte: the UART lowers its line
    ]); // (disarming the timeout leaves MTIP low: no event)
  });

  it("agree with run({ until: 'halt' })", () => {
    const m = boot();
    const { halts } = record(m);
    const first = m.run({ until: 'halt', timeoutMs: 20_000 });
    expect(first.reason).toBe('halt');
    expect(halts).toHaveLength(1);
    expect(halts[0]!.pc).toBe(m.getRegister('pc'));
    expect(halts[0]!.timeNs).toBe(first.virtualTimeNs);
    // Still halted (`until: 'halt'` does not jump the clock to the timer): the run returns at once,
    // and no new halt is reported.
    const again = m.run({ until: 'halt' });
    expect(again).toMatchObject({ reason: 'halt', instructions: 0 });
    expect(halts).toHaveLength(1);
    // Letting virtual time pass, the timer wakes the hart, which halts again at the second WFI (and
    // the run ends at the 1 ms, before the 10 ms timeout).
    const later = m.run({ for: '1ms', timeoutMs: 20_000 });
    expect(later.reason).toBe('time');
    expect(m.serial.output).toBe('wait\n');
    expect(halts).toHaveLength(2);
    expect(halts[1]!.pc).toBe(m.getRegister('pc'));
    expect(m.run({ until: 'halt' })).toMatchObject({ reason: 'halt', instructions: 0 });
    expect(halts).toHaveLength(2);
  });

  it('are not emitted without listeners, and listening changes nothing in the run', () => {
    const runAll = (listen: boolean): { emitted: Set<string>; insns: number; out: string; t: number } => {
      const m = boot();
      const emitted = new Set<string>();
      const emit = m.emit.bind(m);
      m.emit = ((event: string, ...args: unknown[]) => {
        emitted.add(event);
        return (emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
      }) as typeof m.emit;
      if (listen) record(m);
      // No input: the guest's wait for it times out.
      const r = m.run({ timeoutMs: 20_000 });
      expect(r.reason).toBe('shutdown');
      expect(m.serial.output).toBe('wait\nno input\n');
      return { emitted, insns: m.instructions, out: m.serial.output, t: r.virtualTimeNs };
    };
    const quiet = runAll(false);
    const heard = runAll(true);
    expect(quiet.emitted.has('irq')).toBe(false);
    expect(quiet.emitted.has('halt')).toBe(false);
    expect(heard.emitted.has('irq')).toBe(true);
    expect(heard.emitted.has('halt')).toBe(true);
    expect({ ...quiet, emitted: null }).toEqual({ ...heard, emitted: null });
  });
});

/** A register whose bit 0 is the level of its IRQ output. */
const TYPE_LEVEL_REG = defineIrqRegister('test-irq-event-level-reg', { size: 0x10, region: 'level-reg' });

describe('irq events on a defineBoard machine without a PLIC', () => {
  it("report the device line (source = the hart it drives) before the hart's MEIP", () => {
    const create = defineBoard({
      name: 'irq-events',
      cpu: { arch: 'riscv64', count: 2 },
      memory: [{ name: 'ram', kind: 'ram', base: 0x8000_0000, size: '64K' }],
      devices: [{ type: TYPE_LEVEL_REG, id: 'reg', at: 0x1000_0000, irq: 1 }],
      fdt: false,
    });
    // Hart 0 raises then lowers the line; hart 1 jumps straight to the final loop.
    const prog = code([
      csrrs(X.t2, 0xf14, X.zero), // mhartid
      bne(X.t2, X.zero, 7 * 4), // to the final j 0
      ...li(X.t0, 0x1000_0000),
      ...li(X.t1, 1),
      sw(X.t1, X.t0, 0),
      sw(X.zero, X.t0, 0),
      j(0),
    ]);
    const m = create({ firmware: prog });
    const { log } = record(m);
    m.run({ instructions: 100 });
    expect(log).toEqual(['reg -> 1 1', 'cpu1 MEIP 1', 'reg -> 1 0', 'cpu1 MEIP 0']);
  });
});
