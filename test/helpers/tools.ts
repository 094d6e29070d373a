import { execFileSync } from 'node:child_process';

/** True if `cmd --version` runs (a tool a test needs is installed); such tests skip without it. */
export function commandRuns(cmd: string): boolean {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
