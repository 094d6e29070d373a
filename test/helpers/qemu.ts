/**
 * Runs QEMU as the reference machine for softboard's tests: `qemu-system-riscv64 -M virt -bios none
 * -nographic -kernel <elf>` (RV32 through qemu-system-riscv32), with a timeout, capturing the serial
 * output and the exit status (sifive_test: 0 = PASS, the guest's code on FAIL). When QEMU is not
 * installed, {@link qemuAvailable} says so and the message tells why tests are skipped.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Which QEMU binary: 64 = qemu-system-riscv64, 32 = qemu-system-riscv32. */
export type RiscvXlen = 32 | 64;

/** What a QEMU run produced. */
export interface QemuRun {
  /** Everything the guest wrote to the first UART (QEMU's stdout with -nographic). */
  readonly output: string;
  /** QEMU's stderr (warnings, or the reason it failed to start). */
  readonly stderr: string;
  /** QEMU's exit status; null if it was killed by the timeout. */
  readonly exitCode: number | null;
  readonly timedOut: boolean;
}

/** Options of {@link runQemu}. */
export interface QemuOptions {
  /** 64 (default) or 32: picks qemu-system-riscv64 or qemu-system-riscv32. */
  readonly xlen?: RiscvXlen;
  /** Kill QEMU after this long (default 20 s). */
  readonly timeoutMs?: number;
  /** Extra arguments after the standard ones (e.g. ['-smp', '2'], ['-cpu', 'rv64,zba=false']). */
  readonly extraArgs?: readonly string[];
  /** Bytes to send to the guest's UART (QEMU's stdin). */
  readonly input?: string;
}

/** The QEMU binary for a given XLEN. */
export function qemuBinary(xlen: RiscvXlen = 64): string {
  return xlen === 32 ? 'qemu-system-riscv32' : 'qemu-system-riscv64';
}

const versionCache = new Map<string, string | null>();

/** QEMU's version string (e.g. "7.2.22"), or null if the binary is missing. Cached per binary. */
export function qemuVersion(xlen: RiscvXlen = 64): string | null {
  const bin = qemuBinary(xlen);
  if (!versionCache.has(bin)) {
    let v: string | null = null;
    try {
      const out = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
      v = /version (\d+\.\d+(?:\.\d+)?)/.exec(out)?.[1] ?? 'unknown';
    } catch {
      v = null;
    }
    versionCache.set(bin, v);
  }
  return versionCache.get(bin) ?? null;
}

/** True when the QEMU binary for `xlen` can be run. */
export function qemuAvailable(xlen: RiscvXlen = 64): boolean {
  return qemuVersion(xlen) !== null;
}

/** A message for `it.skipIf` / console: why QEMU-based tests do not run here. */
export function qemuSkipReason(xlen: RiscvXlen = 64): string {
  return `${qemuBinary(xlen)} is not installed (Debian: apt-get install qemu-system-misc); QEMU reference tests skipped`;
}

/** The command line {@link runQemu} uses, for messages and reproduction by hand. */
export function qemuArgs(elfPath: string, opts: QemuOptions = {}): string[] {
  return ['-M', 'virt', '-bios', 'none', '-nographic', '-monitor', 'none', '-serial', 'stdio',
    '-kernel', elfPath, ...(opts.extraArgs ?? [])];
}

/**
 * Runs one bare-metal program on QEMU's virt board and resolves when QEMU exits or the timeout kills it.
 * Rejects only if the binary cannot be started at all (check {@link qemuAvailable} first).
 */
export function runQemu(elfPath: string, opts: QemuOptions = {}): Promise<QemuRun> {
  const bin = qemuBinary(opts.xlen ?? 64);
  const timeoutMs = opts.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    // -nographic alone would multiplex the monitor on stdio; -monitor none -serial stdio keeps stdout
    // to the guest's UART only.
    // Without input, the UART goes to a file: QEMU 7.2's serial drops a byte when a busy pipe reports
    // EAGAIN too often (serial.c MAX_XMIT_RETRY), which a loaded test machine provokes.
    const serialFile = opts.input === undefined ? join(mkdtempSync(join(tmpdir(), 'softboard-qemu-')), 'serial.out') : null;
    const args = qemuArgs(elfPath, opts);
    if (serialFile !== null) args[args.indexOf('stdio')] = `file:${serialFile}`;
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [], err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      let output = Buffer.concat(out).toString('latin1');
      if (serialFile !== null) {
        output = existsSync(serialFile) ? readFileSync(serialFile).toString('latin1') : '';
        rmSync(dirname(serialFile), { recursive: true, force: true });
      }
      resolve({
        output,
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode: timedOut ? null : code,
        timedOut,
      });
    });
    if (opts.input !== undefined) child.stdin.write(opts.input);
    child.stdin.end();
  });
}
