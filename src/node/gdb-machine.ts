/**
 * A gdb server for a whole {@link Machine} (QEMU `-s` / `-gdb tcp::PORT`): gdb debugs the first hart,
 * and its `continue` / `stepi` run the machine (clock, timers, devices), not the hart alone.
 * @module
 */
import { RiscvGdbTarget, type RiscvGdbRunOutcome } from '../gdbstub/riscv.js';
import type { Machine, MachineRunResult } from '../machine/machine.js';
import { RiscvCpu } from '../target/riscv/cpu.js';
import { GdbServerError, startGdbServer, type GdbServer, type GdbServerOptions } from './gdbserver.js';

/** Options of {@link startMachineGdbServer}: those of {@link startGdbServer} but the target. */
export type MachineGdbServerOptions = Omit<GdbServerOptions, 'target'>;

/**
 * Starts a gdb server on `port` (default 1234, 0 picks a free one; `host` defaults to `127.0.0.1`) for
 * `machine`'s first CPU (a RISC-V hart). When a debugger connects the machine is paused and the stub
 * drives it: the embedder must not call `machine.run` until `onDisconnect`. A guest shutdown is
 * reported to gdb as the exit of the inferior with the machine's exit status.
 * @throws GdbServerError (rejection) if the first CPU is not a RISC-V hart or the port cannot be listened on.
 */
export async function startMachineGdbServer(machine: Machine, options: MachineGdbServerOptions = {}): Promise<GdbServer> {
  const cpu = machine.cpus[0];
  if (!(cpu instanceof RiscvCpu)) throw new GdbServerError('gdb server: the machine has no RISC-V CPU 0 to debug');
  const outcome = (r: MachineRunResult): RiscvGdbRunOutcome =>
    r.reason === 'shutdown' ? { reason: 'shutdown', exitStatus: machine.shutdownInfo?.status ?? 0 } : { reason: r.reason };
  const target = new RiscvGdbTarget(cpu, {
    memory: machine.addressSpace,
    run: (n, until) => outcome(machine.run({ instructions: n, until })),
    step: () => outcome(machine.step(1)),
  });
  return startGdbServer({
    ...options,
    port: options.port ?? 1234,
    target,
    onConnect: (stub) => {
      // QEMU stops the VM when gdb connects (gdbstub/system.c gdb_chr_event). A run in progress stops at
      // its next TB boundary; the zero-instruction run then consumes the request so it does not turn the
      // debugger's first step into a no-op.
      machine.pause();
      machine.run({ instructions: 0 });
      options.onConnect?.(stub);
    },
  });
}
