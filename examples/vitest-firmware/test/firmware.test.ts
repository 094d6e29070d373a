/**
 * Tests of the example firmware's UART and timer drivers (firmware/uart.c, firmware/timer.c) on
 * softboard's RISC-V virt board: serial input goes in through the UART's receive interrupt, virtual
 * time is advanced explicitly, and the results are checked on the serial output, the registers and
 * guest memory. Every run is deterministic: the same input gives the same output at the same
 * virtual time.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createVirtMachine, parseElf, type RiscvVirtMachine } from 'softboard';
import { littleEndian } from 'softboard/testing';

const elf = new Uint8Array(readFileSync(new URL('../firmware/firmware.elf', import.meta.url)));
const symbols = parseElf(elf).symbols;

/** The address of a global of the firmware, from the ELF's symbol table. */
function symbol(name: string): bigint {
  const s = symbols.get(name);
  if (!s) throw new Error(`firmware.elf has no symbol ${name}`);
  return s.value;
}

/** A virt board running the firmware up to its first prompt. */
async function boot(): Promise<RiscvVirtMachine> {
  const machine = createVirtMachine({ kernel: elf });
  await machine.runUntilOutput('> ', { instructions: 1_000_000 });
  return machine;
}

/** Types a command line and runs until the next prompt; returns what the command printed. */
async function command(machine: RiscvVirtMachine, line: string): Promise<string> {
  machine.serial.clearOutput();
  machine.serial.feed(line + '\n');
  const out = await machine.runUntilOutput('> ', { instructions: 5_000_000 });
  return out.slice(0, -'> '.length);
}

describe('UART driver', () => {
  it('prints the banner and a prompt after uart_init', async () => {
    const machine = await boot();
    expect(machine).toHaveSerialOutput('softboard example firmware\n> ');
  });

  it('enables the UART interrupt in the PLIC and the external and timer interrupts in mie', async () => {
    const machine = await boot();
    // mie.MEIE (bit 11) for the PLIC, mie.MTIE (bit 7) for the timer: 0x880.
    expect(machine).toHaveRegister('mie', (1n << 11n) | (1n << 7n));
    // PLIC source 10 (the UART) has priority 1 and is enabled for context 0 (hart 0, M mode).
    expect(machine).toHaveMemory(0x0c00_0000n + 4n * 10n, littleEndian(1, 4));
    expect(machine).toHaveMemory(0x0c00_2000n, littleEndian(1 << 10, 4));
  });

  it('receives serial input through the interrupt handler', async () => {
    const machine = await boot();
    expect(await command(machine, 'echo hello, driver')).toBe('hello, driver\n');
    // "echo hello, driver\n" is 19 bytes: struct uart_stats { rx_bytes, rx_irqs, rx_dropped } (uint32 each).
    const stats = symbol('uart_stats');
    expect(machine).toHaveMemory(stats, littleEndian(19, 4)); // rx_bytes: every byte taken by uart_irq
    expect(machine).toHaveMemory(stats + 8n, littleEndian(0, 4)); // rx_dropped: none lost
    expect(machine).not.toHaveMemory(stats + 4n, littleEndian(0, 4)); // rx_irqs: interrupts were taken
  });

  it('answers unknown commands', async () => {
    const machine = await boot();
    expect(await command(machine, 'reboot')).toBe('unknown command: reboot\n');
  });
});

describe('timer driver', () => {
  it('counts one tick per 10 ms of virtual time', async () => {
    const machine = await boot();
    const before = machine.readMemory(symbol('timer_tick_count'), 8);
    machine.clock.advance('250ms');
    const ticks = new DataView(before.buffer, before.byteOffset).getBigUint64(0, true) + 25n;
    expect(machine).toHaveMemory(symbol('timer_tick_count'), littleEndian(ticks, 8));
    expect(await command(machine, 'ticks')).toBe(`ticks=${ticks}\n`);
  });

  it('sleep_ticks waits in WFI for exactly that many ticks of virtual time', async () => {
    const machine = await boot();
    const start = machine.clock.now;
    expect(await command(machine, 'sleep 50')).toBe('slept 50 ticks\n');
    const slept = machine.clock.now - start;
    // 50 ticks of 10 ms, give or take the one tick in progress when the command came in.
    expect(slept).toBeGreaterThan(490_000_000);
    expect(slept).toBeLessThan(510_000_000);
    // The hart slept in WFI: a handful of instructions per tick, not a busy loop.
    expect(machine.instructions).toBeLessThan(100_000);
  });
});

describe('shutdown', () => {
  it('powers off through sifive_test with the status main returns', async () => {
    const machine = await boot();
    machine.serial.feed('exit 3\n');
    expect(machine.run({ timeoutMs: 10_000 }).reason).toBe('shutdown');
    expect(machine).toHaveShutdownWith({ kind: 'fail', status: 3 });
    expect(machine).toHaveRegister('a0', 3); // crt.S keeps main's return value in a0
  });

  it('passes with exit 0', async () => {
    const machine = await boot();
    machine.serial.feed('exit 0\n');
    machine.run({ timeoutMs: 10_000 });
    expect(machine).toHaveShutdownWith('pass');
  });
});

describe('determinism', () => {
  it('gives the same output at the same virtual time on every run', async () => {
    const session = async (): Promise<[string, number]> => {
      const machine = await boot();
      machine.serial.feed('sleep 3\nticks\necho done\n');
      await machine.runUntilOutput('done\n', { instructions: 5_000_000 });
      return [machine.serial.output, machine.clock.now];
    };
    expect(await session()).toEqual(await session());
  });
});
