/**
 * Boot once, then start every test from a snapshot of the booted machine: `machine.snapshot()` saves
 * CPUs, devices, timers, the virtual clock and RAM; `restore()` puts them back, here into the same
 * machine between tests. The serial buffer is host state, not guest state: it is cleared by hand.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createVirtMachine } from 'softboard';

const elf = new Uint8Array(readFileSync(new URL('../firmware/firmware.elf', import.meta.url)));
const machine = createVirtMachine({ kernel: elf });
let booted: ReturnType<typeof machine.snapshot>;

beforeAll(async () => {
  await machine.runUntilOutput('> ', { instructions: 1_000_000 });
  booted = machine.snapshot();
});

beforeEach(() => {
  machine.restore(booted);
  machine.serial.clearOutput();
});

async function command(line: string): Promise<string> {
  machine.serial.clearOutput();
  machine.serial.feed(line + '\n');
  return (await machine.runUntilOutput('> ', { instructions: 5_000_000 })).slice(0, -2);
}

describe('tests that start from the booted snapshot', () => {
  it('sleeps 30 ticks', async () => {
    expect(await command('sleep 30')).toBe('slept 30 ticks\n');
    expect(await command('ticks')).toMatch(/^ticks=3\d\n$/);
  });

  it('starts again at the boot-time tick count, whatever the previous test did', async () => {
    const bootTicks = await command('ticks');
    machine.clock.advance('2s');
    machine.restore(booted);
    expect(await command('ticks')).toBe(bootTicks);
  });

  it('restores into a second machine built the same way, which then runs identically', async () => {
    const twin = createVirtMachine({ kernel: elf });
    twin.restore(booted);
    for (const m of [machine, twin]) {
      m.serial.feed('sleep 7\nexit 4\n');
      m.run({ timeoutMs: 10_000 });
    }
    expect(twin).toHaveShutdownWith({ kind: 'fail', status: 4 });
    expect(twin.serial.output).toBe(machine.serial.output);
    expect(twin.clock.now).toBe(machine.clock.now);
  });
});
