/**
 * The example firmware's UART and timer drivers under Jest, on softboard's RISC-V virt board. The
 * firmware (C sources and the committed ELF) is the Vitest example's: ../vitest-firmware/firmware.
 * Plain CommonJS: `require('softboard')` loads the package's CJS build, so Jest needs no transform.
 * The matchers (toHaveSerialOutput, toHaveRegister, toHaveShutdownWith, toHaveMemory) come from
 * `softboard/testing/jest`, loaded by `setupFilesAfterEnv` in package.json.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { createVirtMachine, parseElf } = require('softboard');
const { littleEndian } = require('softboard/testing');

const elf = new Uint8Array(readFileSync(join(__dirname, '../../vitest-firmware/firmware/firmware.elf')));
const symbols = parseElf(elf).symbols;

/** The address of a global of the firmware, from the ELF's symbol table. */
function symbol(name) {
  const s = symbols.get(name);
  if (!s) throw new Error(`firmware.elf has no symbol ${name}`);
  return s.value;
}

/** A virt board running the firmware up to its first prompt. */
async function boot() {
  const machine = createVirtMachine({ kernel: elf });
  await machine.runUntilOutput('> ', { instructions: 1_000_000 });
  return machine;
}

/** Types a command line and runs until the next prompt; returns what the command printed. */
async function command(machine, line) {
  machine.serial.clearOutput();
  machine.serial.feed(line + '\n');
  const out = await machine.runUntilOutput('> ', { instructions: 5_000_000 });
  return out.slice(0, -'> '.length);
}

describe('UART driver', () => {
  test('prints the banner and a prompt after uart_init', async () => {
    const machine = await boot();
    expect(machine).toHaveSerialOutput('softboard example firmware\n> ');
    // mie.MEIE (bit 11) for the PLIC, mie.MTIE (bit 7) for the timer.
    expect(machine).toHaveRegister('mie', (1n << 11n) | (1n << 7n));
  });

  test('receives serial input through the interrupt handler', async () => {
    const machine = await boot();
    expect(await command(machine, 'echo hello from jest')).toBe('hello from jest\n');
    // "echo hello from jest\n" is 21 bytes: struct uart_stats { rx_bytes, rx_irqs, rx_dropped }.
    expect(machine).toHaveMemory(symbol('uart_stats'), littleEndian(21, 4));
    expect(machine).toHaveMemory(symbol('uart_stats') + 8n, littleEndian(0, 4));
  });
});

describe('timer driver', () => {
  test('counts one tick per 10 ms of virtual time', async () => {
    const machine = await boot();
    const before = new DataView(machine.readMemory(symbol('timer_tick_count'), 8).buffer).getBigUint64(0, true);
    machine.clock.advance('1s');
    expect(machine).toHaveMemory(symbol('timer_tick_count'), littleEndian(before + 100n, 8));
    expect(await command(machine, 'ticks')).toBe(`ticks=${before + 100n}\n`);
  });

  test('sleep_ticks returns after that many ticks', async () => {
    const machine = await boot();
    const start = machine.clock.now;
    expect(await command(machine, 'sleep 20')).toBe('slept 20 ticks\n');
    expect(machine.clock.now - start).toBeGreaterThan(190_000_000);
    expect(machine.clock.now - start).toBeLessThan(210_000_000);
  });
});

describe('shutdown', () => {
  test('powers off through sifive_test with the status main returns', async () => {
    const machine = await boot();
    machine.serial.feed('exit 7\n');
    expect(machine.run({ timeoutMs: 10_000 }).reason).toBe('shutdown');
    expect(machine).toHaveShutdownWith({ kind: 'fail', status: 7 });
    expect(machine).toHaveRegister('a0', 7);
    expect(machine).not.toHaveShutdownWith('pass');
  });
});
