/**
 * Runs the custom board: boots firmware.elf, shows its output, "presses the button" once the firmware
 * waits for it, and reports what the devices saw. Run it with a TypeScript-aware runner, e.g.
 * `npx vitest run test/examples/custom-board.test.ts`, or import {@link runCustomBoard}.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCustomBoard } from './board.js';

/** What one run of the example observed. */
export interface CustomBoardRun {
  readonly output: string;
  readonly shutdown: { readonly kind: string; readonly status: number } | null;
  /** GPIO output levels after each change. */
  readonly leds: number[];
  /** Values the firmware wrote to the PWM stub's duty register. */
  readonly pwmDuty: bigint[];
}

/** Boots the firmware with the sensor at `temperatureC`, presses the button, runs to power-off. */
export async function runCustomBoard(temperatureC = 23.5): Promise<CustomBoardRun> {
  const here = dirname(fileURLToPath(import.meta.url));
  const firmware = new Uint8Array(readFileSync(join(here, 'firmware.elf')));
  const { machine, gpio, sensor } = createCustomBoard({ firmware });
  sensor.temperatureC = temperatureC;
  const leds: number[] = [];
  gpio.events.on('change', (v) => leds.push(v));

  await machine.runUntilOutput('waiting for button\n', { instructions: 5_000_000 });
  gpio.setInput(8, true); // the button
  machine.run({ instructions: 5_000_000 });
  return {
    output: machine.serial.output,
    shutdown: machine.shutdownInfo,
    leds,
    pwmDuty: machine.stubs.get('pwm')!.writes(4).map((a) => a.value),
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await runCustomBoard();
  process.stdout.write(r.output);
  process.stdout.write(`shutdown: ${JSON.stringify(r.shutdown)}, LEDs: ${r.leds.map((v) => v.toString(2).padStart(4, '0')).join(' -> ')}, PWM duty: ${r.pwmDuty.join(', ')}\n`);
}
