/**
 * The programs the guides show (docs/getting-started.md, docs/guide/gdb.md) do what the guides say:
 * scripts/embed.mjs, the `softboard` command line, and scripts/gdb-server.mjs driven by gdb-multiarch
 * (when it is installed, as in CI).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const hasGdb = spawnSync('gdb-multiarch', ['--version']).status === 0;

describe('scripts', () => {
  it('embed.mjs boots the firmware, types two commands and reports the shutdown', () => {
    const r = spawnSync(process.execPath, ['scripts/embed.mjs'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('softboard example firmware\n> hello from the host\n> ');
    expect(r.stdout).toContain('stopped: shutdown, {"kind":"pass","status":0}');
  });

  it('the softboard CLI runs the firmware with stdin on its serial port, and exits with its status', () => {
    const pkg = dirname(createRequire(import.meta.url).resolve('softboard/package.json'));
    const r = spawnSync(process.execPath, [join(pkg, 'dist/cli.js'), '-M', 'virt', '-bios', 'none', '-kernel', 'firmware/firmware.elf', '-nographic'],
      { cwd: root, input: 'echo hi\nexit 3\n', encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toBe('softboard example firmware\n> hi\n> ');
    expect(r.status).toBe(3);
  });

  it.skipIf(!hasGdb)('gdb-server.mjs lets gdb break in the timer interrupt and read the tick count', async () => {
    const server = spawn(process.execPath, ['scripts/gdb-server.mjs'], { cwd: root, env: { ...process.env, PORT: '0' } });
    try {
      const port = await new Promise<string>((resolve, reject) => {
        let err = '';
        server.stderr.on('data', (b: Buffer) => {
          err += b.toString();
          const m = /listening on port (\d+)/.exec(err);
          if (m) resolve(m[1]!);
        });
        server.on('exit', () => reject(new Error(`gdb-server.mjs exited: ${err}`)));
      });
      const gdb = spawnSync('gdb-multiarch', ['-batch', '-nx', '-ex', `target remote :${port}`,
        '-ex', 'break timer_irq', '-ex', 'continue', '-ex', 'print timer_tick_count',
        '-ex', 'continue', '-ex', 'print timer_tick_count', '-ex', 'print/x $mie', '-ex', 'detach',
        'firmware/firmware.elf'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
      expect(gdb.stdout).toContain('Breakpoint 1, timer_irq ()');
      expect(gdb.stdout).toContain('$1 = 0\n');
      expect(gdb.stdout).toContain('$2 = 1\n');
      expect(gdb.stdout).toContain('$3 = 0x880\n');
    } finally {
      server.kill();
    }
  });
});
