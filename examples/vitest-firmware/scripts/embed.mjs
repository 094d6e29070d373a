// Embeds softboard in a program: boots the example firmware on the RISC-V virt board, types two
// commands on its serial port, and runs it until it powers off.
//   node scripts/embed.mjs
import { readFileSync } from 'node:fs';
import { createVirtMachine } from 'softboard';

const kernel = new Uint8Array(readFileSync(new URL('../firmware/firmware.elf', import.meta.url)));
const machine = createVirtMachine({ kernel }); // bios 'none': the hart jumps straight to the ELF's entry

await machine.runUntilOutput('> ');            // run until the firmware prompts
machine.serial.feed('echo hello from the host\nexit 0\n');
const result = machine.run({ timeoutMs: 5000 }); // until shutdown, or 5 s of host time

process.stdout.write(machine.serial.output);
console.log(`\nstopped: ${result.reason}, ${JSON.stringify(machine.shutdownInfo)}, ` +
  `${machine.instructions} instructions, ${machine.clock.now} ns of virtual time`);
