/**
 * Asks QEMU's own virt board (the reference) for its boot ROM contents and its device tree, so the
 * board tests compare softboard with what QEMU really builds rather than with numbers copied by hand.
 * Every function returns null when the QEMU binary is missing (tests then skip).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qemuAvailable, qemuBinary, type RiscvXlen } from '../../helpers/qemu.js';

/** Runs QEMU stopped at reset (-S) with `args`, sends monitor `commands`, returns the monitor's text. */
export function qemuMonitor(xlen: RiscvXlen, args: readonly string[], commands: readonly string[]): string | null {
  if (!qemuAvailable(xlen)) return null;
  const out = execFileSync(qemuBinary(xlen), ['-M', 'virt', '-display', 'none', '-serial', 'none', '-monitor', 'stdio', '-S', ...args], {
    input: [...commands, 'quit', ''].join('\n'), encoding: 'latin1', timeout: 20_000, stdio: ['pipe', 'pipe', 'ignore'],
  });
  // The monitor echoes keystrokes with terminal escapes; keep the plain lines.
  return out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
}

/** `xp /Nwx addr` through the monitor: N little-endian words of guest physical memory. */
export function qemuReadWords(xlen: RiscvXlen, args: readonly string[], addr: bigint, n: number): number[] | null {
  const text = qemuMonitor(xlen, args, [`xp /${n}wx 0x${addr.toString(16)}`]);
  if (text === null) return null;
  const words: number[] = [];
  for (const m of text.matchAll(/^[0-9a-f]{16}:((?:\s+0x[0-9a-f]{8})+)/gm)) {
    for (const w of m[1]!.trim().split(/\s+/)) words.push(Number(w));
  }
  if (words.length !== n) throw new Error(`expected ${n} words from QEMU's monitor, got ${words.length}:\n${text}`);
  return words;
}

/** The DTB QEMU hands to the guest for `args` (`-M virt,dumpdtb=F`). */
export function qemuDumpDtb(xlen: RiscvXlen, args: readonly string[]): Uint8Array | null {
  if (!qemuAvailable(xlen)) return null;
  const dir = mkdtempSync(join(tmpdir(), 'softboard-dtb-'));
  try {
    const f = join(dir, 'virt.dtb');
    execFileSync(qemuBinary(xlen), ['-M', `virt,dumpdtb=${f}`, '-display', 'none', '-serial', 'none', ...args], {
      timeout: 20_000, stdio: 'ignore',
    });
    return new Uint8Array(readFileSync(f));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `info mtree -f` of the system address space: `[start, end, kind, name]` per range. */
export function qemuFlatMemoryMap(xlen: RiscvXlen, args: readonly string[]): Array<[bigint, bigint, string, string]> | null {
  const text = qemuMonitor(xlen, args, ['info mtree -f']);
  if (text === null) return null;
  const section = text.split(/\n(?=FlatView #)/).find((s) => s.includes('AS "memory"'));
  if (!section) throw new Error(`no FlatView for AS "memory" in:\n${text}`);
  const rows: Array<[bigint, bigint, string, string]> = [];
  for (const m of section.matchAll(/^\s+([0-9a-f]{16})-([0-9a-f]{16}) \(prio -?\d+, ([a-z/]+)\): (\S+)/gm)) {
    rows.push([BigInt('0x' + m[1]!), BigInt('0x' + m[2]!), m[3]!, m[4]!]);
  }
  return rows;
}
