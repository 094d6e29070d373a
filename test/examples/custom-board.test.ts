/**
 * The custom-board example: the C firmware (built by examples/custom-board/build.sh) talks to the
 * user-written GPIO and I2C devices, the TMP102 model, the PWM stub and the PLIC of a board declared
 * with defineBoard.
 */
import { describe, expect, it } from 'vitest';
import { runCustomBoard } from '../../examples/custom-board/main.js';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCustomBoardMachine } from '../../examples/custom-board/board.js';
import { parseFdt } from '../../src/hw/core/fdt.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('examples/custom-board', () => {
  it('reads the sensor, drives the LEDs and PWM, takes the button interrupt and powers off', async () => {
    const r = await runCustomBoard(23.5);
    expect(r.output).toBe('acme-custom: hello\ntemp=23.5C\nwaiting for button\nbutton pressed\n');
    expect(r.shutdown).toEqual({ kind: 'pass', status: 0 });
    expect(r.leds).toEqual([0b0101, 0b1010]);
    expect(r.pwmDuty).toEqual([BigInt(23.5 * 16)]);
  });

  it('follows the sensor, negative temperatures included', async () => {
    expect((await runCustomBoard(-12.25)).output).toContain('temp=-12.2C\n');
    expect((await runCustomBoard(100)).pwmDuty).toEqual([1600n]);
  });

  it('fails (exit code 2) when no sensor answers, and describes its devices in the device tree', () => {
    const firmware = new Uint8Array(readFileSync(join(here, '../../examples/custom-board/firmware.elf')));
    const machine = createCustomBoardMachine({ firmware }); // no TMP102 attached
    machine.run({ instructions: 1_000_000 });
    expect(machine.serial.output).toBe('acme-custom: hello\nno sensor\n');
    expect(machine.shutdownInfo).toEqual({ kind: 'fail', status: 2 });
    const fdt = parseFdt(machine.fdtBlob!);
    expect(fdt.node('/soc/gpio@10012000')?.getPropStringList('compatible')).toEqual(['acme,gpio']);
    expect(fdt.node('/soc/gpio@10012000')?.getPropCells('interrupts')).toEqual([3]);
  });
});
