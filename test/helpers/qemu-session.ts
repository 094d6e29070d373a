/**
 * An interactive QEMU session for acceptance tests: QEMU's serial on a pipe, driven by waiting for
 * text and typing answers, one character at a time (U-Boot reads the UART by polling and drops
 * bytes typed faster than it polls when its FIFO is full, so each character waits for its echo).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface QemuSession {
  /** Everything the guest printed so far. */
  readonly output: () => string;
  /** Resolves with the output once `text` appears after `from` (an index in the output). */
  waitFor(text: string | RegExp, timeoutMs: number, from?: number): Promise<string>;
  /** Types `text`, waiting for each printable character's echo. */
  type(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves with QEMU's exit code. */
  readonly exited: Promise<number | null>;
  kill(): void;
}

/** Starts `bin args` with stdio serial. */
export function startQemuSession(bin: string, args: readonly string[]): QemuSession {
  const child: ChildProcess = spawn(bin, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('latin1');
  child.stdout!.on('data', (d: string) => {
    out += d;
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    for (const w of [...waiters]) w();
    resolve(code);
  }));
  let done = false;
  void exited.then(() => { done = true; });

  const waitFor = (text: string | RegExp, timeoutMs: number, from = 0): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const tail = out.slice(from);
        const hit = typeof text === 'string' ? tail.includes(text) : text.test(tail);
        if (hit) {
          cleanup();
          resolve(out);
          return true;
        }
        if (done) {
          cleanup();
          reject(new Error(`QEMU exited before ${String(text)} appeared; output:\n${out}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timeout waiting for ${String(text)}; output:\n${out}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(w);
      };
      const w = (): void => void check();
      if (!check()) waiters.add(w);
    });

  return {
    output: () => out,
    waitFor,
    async type(text: string, timeoutMs = 10_000): Promise<void> {
      for (const ch of text) {
        const from = out.length;
        child.stdin!.write(ch);
        if (ch >= ' ' && ch <= '~') await waitFor(ch, timeoutMs, from);
      }
    },
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}
