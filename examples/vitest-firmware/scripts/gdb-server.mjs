// Runs the example firmware under a gdb server on port 1234 (or $PORT), as QEMU's `-s -S`: the hart
// waits at its reset vector until gdb continues. The guest's serial output goes to stdout, and lines
// typed on stdin go to its UART.
//   node scripts/gdb-server.mjs
//   gdb-multiarch firmware/firmware.elf -ex 'target remote :1234'
import { readFileSync } from 'node:fs';
import { createVirtMachine, RiscvGdbTarget } from 'softboard';
import { startGdbServer } from 'softboard/node';

const elf = new Uint8Array(readFileSync(new URL('../firmware/firmware.elf', import.meta.url)));
const machine = createVirtMachine({ kernel: elf });
machine.on('output', (bytes) => process.stdout.write(bytes));
process.stdin.on('data', (bytes) => machine.serial.feed(new Uint8Array(bytes)));

// gdb drives the machine (not just the hart), so timers and devices run while it continues or steps.
const outcome = (r) => ({ reason: r.reason, exitStatus: machine.shutdownInfo?.status ?? 0 });
const target = new RiscvGdbTarget(machine.harts[0], {
  memory: machine.addressSpace,
  run: (instructions, until) => outcome(machine.run({ instructions, until })),
  step: () => outcome(machine.step(1)),
});

const server = await startGdbServer({
  target,
  port: Number(process.env.PORT ?? 1234),
  onDisconnect: () => {
    void server.close();
    process.stdin.destroy();
  },
});
console.error(`gdb server listening on port ${server.port}`);
