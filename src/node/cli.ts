#!/usr/bin/env node
/**
 * The `softboard` command line, mirroring `qemu-system-riscv64` / `qemu-system-riscv32` for the flags it
 * implements, so that scripts written for QEMU run unchanged:
 * ```
 * softboard -M virt [-cpu rv64|rv32] [-m 128M] [-smp N] -bios F|none [-kernel K] [-initrd I]
 *           [-append "..."] [-dtb D] [-nographic] [-serial stdio|mon:stdio|null]
 *           [-icount shift=N] [-d int,guest_errors,...] [-D logfile] [-s] [-gdb tcp:[HOST]:PORT] [-S]
 * ```
 * The first UART is on stdio through the mux (Ctrl-A X quits, Ctrl-A H helps). The exit status is the
 * guest's: 0 when it powers off or passes through sifive_test, the code of `(code << 16) | 0x3333` when
 * it fails, 1 for a usage or image error.
 *
 * When every hart waits in WFI the CLI lets host time pass before virtual time does (QEMU icount
 * `sleep=on`), so an idle guest does not spin the host; the library's runs stay deterministic.
 *
 * `-s` / `-gdb` start a gdb server (src/node/gdb-machine.ts). While a debugger is connected it drives the
 * machine and the CLI's own run loop waits; with `-S` the guest does not start until a debugger lets it
 * (QEMU: `continue` then detach, or run to the guest's end). gdb's `kill` ends the CLI with status 0.
 * @module
 */
import { appendFileSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { StdioChardev, type StdinLike } from './chardev-stdio.js';
import { createVirtMachineFromFiles, type VirtMachineFileOptions } from './files.js';
import { MuxChardev } from '../chardev/char-mux.js';
import { NullChardev } from '../chardev/char-null.js';
import type { Chardev } from '../chardev/char.js';
import { Logger, LOG_ITEMS, parseLogMask } from '../util/log.js';
import { TRACE_ITEMS } from '../util/trace.js';
import { SoftboardError } from '../util/errors.js';
import type { Machine } from '../machine/machine.js';
import { startMachineGdbServer } from './gdb-machine.js';
import type { GdbServer } from './gdbserver.js';

/** A command-line error: the message says which option and what is accepted. */
export class CliUsageError extends SoftboardError {
  override name = 'CliUsageError';
}

/** Where the CLI reads and writes (the process's by default; tests pass their own). */
export interface CliIo {
  readonly stdin: StdinLike;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Put stdin in raw mode when it is a TTY (default true). */
  readonly rawTerminal?: boolean;
}

/** The parsed command line. */
export interface CliOptions {
  readonly machine: VirtMachineFileOptions;
  /** `-no-reboot`: a guest reset request ends the run. */
  readonly noReboot: boolean;
  readonly serial: 'stdio' | 'null';
  readonly logMask: number;
  readonly logFile: string | null;
  readonly help: boolean;
  readonly version: boolean;
  /** `-s` / `-gdb tcp:HOST:PORT`: where the gdb server listens (host `127.0.0.1` when not given), or null. */
  readonly gdb: { readonly host: string; readonly port: number } | null;
  /** `-S`: do not start the guest; a debugger starts it. */
  readonly startStopped: boolean;
}

interface OptionSpec {
  readonly arg: string | null;
  readonly help: string;
}

/** Every option the CLI accepts (QEMU's spelling; `--x` works as `-x`). */
const OPTIONS: Readonly<Record<string, OptionSpec>> = {
  M: { arg: 'machine', help: 'select the board: virt (the only one)' },
  machine: { arg: 'machine', help: 'same as -M' },
  cpu: { arg: 'cpu', help: 'rv64 (default) or rv32 (what qemu-system-riscv32 is)' },
  m: { arg: 'size', help: 'RAM size, e.g. 128M (default), 1G; a plain number is MiB' },
  smp: { arg: 'n', help: 'number of harts (or cpus=N)' },
  bios: { arg: 'file', help: "firmware loaded at 0x80000000 (ELF or raw), or 'none' (default)" },
  kernel: { arg: 'file', help: 'kernel: an ELF, or a raw image after the firmware' },
  initrd: { arg: 'file', help: 'initial RAM disk' },
  append: { arg: 'cmdline', help: 'kernel command line (/chosen/bootargs)' },
  dtb: { arg: 'file', help: 'use this device tree blob instead of the generated one' },
  nographic: { arg: null, help: 'no display: the serial port on stdio (always the case)' },
  serial: { arg: 'dev', help: 'stdio (default), mon:stdio or null' },
  monitor: { arg: 'dev', help: 'none (there is no monitor)' },
  display: { arg: 'type', help: 'none' },
  icount: { arg: 'shift=N', help: 'virtual ns per instruction = 2^N (default 2)' },
  rtc: { arg: 'opts', help: 'base=utc|YYYY-MM-DDTHH:MM:SS,clock=host|vm|rt (default base=utc,clock=host)' },
  'no-reboot': { arg: null, help: 'exit instead of resetting when the guest asks for a reset' },
  s: { arg: null, help: 'gdb server on tcp::1234 (same as -gdb tcp::1234)' },
  gdb: { arg: 'dev', help: 'gdb server on tcp::PORT (127.0.0.1) or tcp:HOST:PORT; PORT 0 picks a free one' },
  S: { arg: null, help: 'do not start the CPU: wait until gdb continues (needs -s or -gdb)' },
  d: { arg: 'items', help: `log items: ${LOG_ITEMS.map((i) => i.name).join(', ')}, all` },
  D: { arg: 'logfile', help: 'write the log to this file instead of stderr' },
  h: { arg: null, help: 'print this help' },
  help: { arg: null, help: 'same as -h' },
  version: { arg: null, help: 'print the version' },
};

/** The help text. */
export function helpText(): string {
  const lines = ['usage: softboard -M virt [options]', '', 'Options (as qemu-system-riscv64):'];
  for (const [name, spec] of Object.entries(OPTIONS)) {
    const left = `-${name}${spec.arg ? ` ${spec.arg}` : ''}`;
    lines.push(`  ${left.padEnd(22)} ${spec.help}`);
  }
  lines.push('', 'In the console: Ctrl-A X quits, Ctrl-A H lists the other keys.');
  lines.push('Exit status: 0 when the guest passes/powers off, its code when it fails, 1 on errors.');
  return lines.join('\n') + '\n';
}

/** Parses `key=value,…` (QEMU option syntax), the first item possibly bare (`implied` key). */
function keyValues(text: string, implied: string): Map<string, string> {
  const out = new Map<string, string>();
  text.split(',').forEach((part, i) => {
    const eq = part.indexOf('=');
    if (eq < 0) out.set(i === 0 ? implied : part, i === 0 ? part : 'on');
    else out.set(part.slice(0, eq), part.slice(eq + 1));
  });
  return out;
}

/**
 * Parses the arguments (without `node` and the script).
 * @throws CliUsageError for an unknown option, a missing value, or a value softboard does not support.
 */
export function parseArgs(argv: readonly string[]): CliOptions {
  const machine: { -readonly [K in keyof VirtMachineFileOptions]: VirtMachineFileOptions[K] } = {};
  let serial: 'stdio' | 'null' = 'stdio';
  let logMask = 0;
  let logFile: string | null = null;
  let help = false, version = false, noReboot = false, board: string | null = null;
  let gdb: { host: string; port: number } | null = null, startStopped = false;
  // QEMU's RTC follows the host clock unless told otherwise.
  let rtc: { clock: 'host' | 'vm' | 'rt'; base: string } = { clock: 'host', base: 'utc' };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    if (!raw.startsWith('-') || raw === '-' || raw === '--') {
      throw new CliUsageError(`unexpected argument '${raw}' (options start with '-'; try -help)`);
    }
    const name = raw.replace(/^--?/, '');
    const spec = OPTIONS[name];
    if (!spec) {
      throw new CliUsageError(`${raw}: unknown option; supported: ${Object.keys(OPTIONS).map((o) => `-${o}`).join(', ')}`);
    }
    let value = '';
    if (spec.arg !== null) {
      const v = argv[++i];
      if (v === undefined) throw new CliUsageError(`${raw} needs an argument (${spec.arg})`);
      value = v;
    }
    switch (name) {
      case 'M': case 'machine': {
        const kv = keyValues(value, 'type');
        board = kv.get('type') ?? '';
        if (board !== 'virt') throw new CliUsageError(`${raw} ${value}: unsupported machine '${board}'; supported: virt`);
        for (const k of kv.keys()) if (k !== 'type') throw new CliUsageError(`${raw} ${value}: the virt board has no option '${k}'`);
        break;
      }
      case 'cpu': {
        const model = value.split(',')[0];
        if (model === 'rv64' || model === 'any' || model === 'max') machine.arch = 'riscv64';
        else if (model === 'rv32') machine.arch = 'riscv32';
        else throw new CliUsageError(`-cpu ${value}: unsupported CPU model; supported: rv64, rv32`);
        if (value.includes(',')) throw new CliUsageError(`-cpu ${value}: CPU properties are not supported`);
        break;
      }
      case 'm': {
        const kv = keyValues(value, 'size');
        const size = kv.get('size');
        if (size === undefined || size === '') throw new CliUsageError(`-m ${value}: expected a size such as 128M`);
        machine.memory = size;
        break;
      }
      case 'smp': {
        const kv = keyValues(value, 'cpus');
        const n = Number(kv.get('cpus'));
        if (!Number.isInteger(n) || n < 1) throw new CliUsageError(`-smp ${value}: expected a number of harts`);
        machine.cpus = n;
        break;
      }
      case 'bios': machine.bios = value; break;
      case 'kernel': machine.kernel = value; break;
      case 'initrd': machine.initrd = value; break;
      case 'append': machine.append = value; break;
      case 'dtb': machine.dtb = value; break;
      case 'nographic': break;
      case 'serial':
        if (value === 'stdio' || value === 'mon:stdio') serial = 'stdio';
        else if (value === 'null' || value === 'none') serial = 'null';
        else throw new CliUsageError(`-serial ${value}: unsupported; supported: stdio, mon:stdio, null`);
        break;
      case 'monitor':
        if (value !== 'none') throw new CliUsageError(`-monitor ${value}: there is no monitor; only 'none' is accepted`);
        break;
      case 'display':
        if (value !== 'none') throw new CliUsageError(`-display ${value}: there is no display; only 'none' is accepted`);
        break;
      case 'icount': {
        const kv = keyValues(value, 'shift');
        const shift = Number(kv.get('shift'));
        if (!Number.isInteger(shift) || shift < 0 || shift > 10) throw new CliUsageError(`-icount ${value}: expected shift=N with N in 0..10`);
        machine.icountShift = shift;
        break;
      }
      case 'rtc': {
        const kv = keyValues(value, 'base');
        for (const [k, v] of kv) {
          if (k === 'base') rtc = { ...rtc, base: v };
          else if (k === 'clock' && (v === 'host' || v === 'vm' || v === 'rt')) rtc = { ...rtc, clock: v };
          else throw new CliUsageError(`-rtc ${value}: unsupported '${k}=${v}'; supported: base=utc|YYYY-MM-DDTHH:MM:SS, clock=host|vm|rt`);
        }
        break;
      }
      case 'no-reboot': noReboot = true; break;
      case 's': gdb = { host: '127.0.0.1', port: 1234 }; break;
      case 'gdb': gdb = parseGdbDev(value); break;
      case 'S': startStopped = true; break;
      case 'd':
        try {
          logMask |= parseLogMask(value);
        } catch (e) {
          throw new CliUsageError(`-d ${value}: ${(e as Error).message}`);
        }
        break;
      case 'D': logFile = value; break;
      case 'h': case 'help': help = true; break;
      case 'version': version = true; break;
    }
  }
  if (!help && !version && board === null) throw new CliUsageError('no machine given: use -M virt');
  // QEMU -S without gdb waits for the monitor's `cont`; softboard has no monitor.
  if (startStopped && gdb === null && !help && !version) throw new CliUsageError('-S: nothing could start the guest; use it with -s or -gdb tcp::PORT');
  machine.rtc = rtc;
  return { machine, noReboot, serial, logMask, logFile, help, version, gdb, startStopped };
}

/**
 * `-gdb` device: `tcp::PORT` (listens on 127.0.0.1, where QEMU listens on every interface) or
 * `tcp:HOST:PORT` (a bracketed IPv6 host works too).
 */
function parseGdbDev(value: string): { host: string; port: number } {
  const m = /^tcp:(\[[^\]]*\]|[^:]*):(\d+)$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port <= 65535)) throw new CliUsageError(`-gdb ${value}: expected tcp::PORT or tcp:HOST:PORT (PORT 0..65535)`);
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? '127.0.0.1' : host, port };
}

/** The package version (kept in step with package.json by the release). */
export const VERSION = '0.1.0';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Host time a run slice may take before the CLI yields to stdin and timers. */
const SLICE_MS = 20;
/** Longest host sleep while the guest idles, so typed keys wake it quickly. */
const IDLE_SLEEP_MS = 10;
/** How often the CLI looks whether the debugger still holds the machine. */
const POLL_MS = 10;
/** How long the CLI waits for the debugger to hang up after the guest ended or gdb killed it. */
const GDB_HANGUP_MS = 1000;

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves with the exit status. Never
 * calls `process.exit`; the bin wrapper does.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    io.stderr.write(`softboard: ${(e as Error).message}\n`);
    return 1;
  }
  if (opts.help) { io.stdout.write(helpText()); return 0; }
  if (opts.version) { io.stdout.write(`softboard ${VERSION} (QEMU 7.2-compatible RISC-V virt board)\n`); return 0; }

  const logFile = opts.logFile;
  const log = new Logger({
    mask: opts.logMask,
    sink: (_cat, msg) => {
      if (logFile !== null) appendFileSync(logFile, msg + '\n');
      else io.stderr.write(msg + '\n');
    },
  });

  let stdio: StdioChardev | null = null;
  let serial: Chardev;
  if (opts.serial === 'stdio') {
    stdio = new StdioChardev({ input: io.stdin, output: io.stdout, raw: io.rawTerminal ?? true });
    serial = new MuxChardev(stdio);
  } else {
    serial = new NullChardev();
  }

  let machine: Machine;
  try {
    machine = createVirtMachineFromFiles({ ...opts.machine, serial, log });
  } catch (e) {
    stdio?.close();
    serial.close();
    io.stderr.write(`softboard: ${e instanceof SoftboardError ? e.message : String(e)}\n`);
    return 1;
  }
  if (opts.noReboot) machine.rebootAction = 'shutdown';
  // -d in_asm,exec: the execution trace (src/util/trace.ts), into the same log sink. -d int and -d mmu
  // need no trace: the CPUs log their traps and TLB fills to the machine's logger themselves.
  const traceItems = TRACE_ITEMS.map((i) => i.name).filter((n) => n !== 'int' && n !== 'mmu' && log.enabled(n));
  if (traceItems.length > 0) machine.trace({ items: traceItems });
  serial.on('quit', () => machine.shutdown({ kind: 'host', status: 0 }));

  let gdb: GdbControl | null = null;
  if (opts.gdb !== null) {
    // QEMU -S: the guest waits for a debugger; a `continue` through it, or its detach, starts it.
    const ctl: GdbControl = { server: null, connected: false, running: !opts.startStopped, killed: false };
    try {
      ctl.server = await startMachineGdbServer(machine, {
        host: opts.gdb.host,
        port: opts.gdb.port,
        onConnect: () => { ctl.connected = true; ctl.running = false; },
        onDisconnect: () => { ctl.connected = false; },
        // As QEMU (gdbstub.c 'k'): the emulator exits, with status 0.
        onKill: () => { ctl.killed = true; },
        // As QEMU ('D'): the guest runs on.
        onDetach: () => { ctl.running = true; },
      });
    } catch (e) {
      machine.destroy();
      stdio?.close();
      io.stderr.write(`softboard: ${(e as Error).message}\n`);
      return 1;
    }
    if (opts.gdb.port === 0) io.stderr.write(`softboard: gdb server listening on tcp:${opts.gdb.host}:${ctl.server.port}\n`);
    gdb = ctl;
  }
  try {
    return await runInteractive(machine, io, gdb);
  } finally {
    if (gdb?.server) {
      // Let the debugger read the exit (W) or kill reply and hang up first, as it does at once.
      for (let t = 0; gdb.connected && t < GDB_HANGUP_MS; t += POLL_MS) await sleep(POLL_MS);
      await gdb.server.close();
    }
    machine.destroy();
    stdio?.close();
  }
}

/** The CLI's view of its gdb server. */
interface GdbControl {
  server: GdbServer | null;
  /** A debugger is connected: it drives the machine. */
  connected: boolean;
  /** The CLI runs the guest when no debugger is connected (false with -S until a detach). */
  running: boolean;
  /** gdb sent `k`. */
  killed: boolean;
}

/** The CLI's run loop: slices of host time, yielding to the event loop; idle guests sleep in host time. */
async function runInteractive(machine: Machine, io: CliIo, gdb: GdbControl | null): Promise<number> {
  const vc = machine.mainLoop.virtual;
  // While the debugger drives the machine (or -S holds it), only watch for its end.
  const held = (): boolean => gdb !== null && (gdb.connected || !gdb.running) && !gdb.killed && machine.shutdownInfo === null;
  for (;;) {
    while (held()) await sleep(POLL_MS);
    if (gdb?.killed) return 0;
    const r = machine.run({ until: 'halt', timeoutMs: SLICE_MS });
    switch (r.reason) {
      case 'shutdown':
        return machine.shutdownInfo?.status ?? 0;
      case 'stalled':
        io.stderr.write(`softboard: the guest keeps faulting without progress at pc 0x${machine.getRegister('pc').toString(16)}; stopping\n`);
        return 1;
      case 'halt': case 'idle': {
        // Let host time pass (or input arrive), then move virtual time by as much (QEMU icount sleep=on).
        const next = vc.timers.nextExpire;
        const waitNs = next === Infinity ? IDLE_SLEEP_MS * 1e6 : Math.max(0, next - vc.now());
        const ms = Math.min(IDLE_SLEEP_MS, Math.ceil(waitNs / 1e6));
        const t0 = machine.mainLoop.realtime.now();
        await sleep(ms);
        if (held()) break;
        const slept = Math.max(1, machine.mainLoop.realtime.now() - t0);
        machine.run({ for: Math.min(slept, waitNs > 0 ? waitNs : slept) });
        break;
      }
      default:
        // Yield so stdin data and host timers get in.
        await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

function processIo(): CliIo {
  return { stdin: process.stdin as Readable as StdinLike, stdout: process.stdout, stderr: process.stderr };
}

/** This module's own file, when the module format tells it (ESM); null in a CommonJS bundle. */
function moduleFile(): string | null {
  try {
    const url: unknown = import.meta.url;
    return typeof url === 'string' ? realpathSync(fileURLToPath(url)) : null;
  } catch {
    return null;
  }
}

/** True when this file is the program being run (`softboard …`, `node dist/cli.js …`), not imported. */
function invokedAsProgram(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  let real: string;
  try {
    real = realpathSync(script);
  } catch {
    return false;
  }
  const self = moduleFile();
  if (self !== null) return real === self;
  return /^(?:cli\.c?js|softboard)$/.test(basename(real));
}

if (invokedAsProgram()) {
  main(process.argv.slice(2)).then(
    (status) => { process.exitCode = status; },
    (e: unknown) => {
      process.stderr.write(`softboard: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
