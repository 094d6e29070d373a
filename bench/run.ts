/**
 * softboard's benchmark harness (`npm run bench [-- options]`): runs the guest programs of
 * `bench/riscv/` on QEMU (`qemu-system-riscv64/32 -M virt -bios none`), natively (the same C built for
 * the host with `cc`), and on softboard with each TCG backend, and prints wall time, guest instruction
 * count, MIPS and the ratio to QEMU, plus translation and code-cache figures of softboard.
 *
 * Each softboard run is a child process (this script with `--worker`): a fresh V8 heap and JIT state
 * per measurement, a hard timeout, and an optional CPU profile (`--profile`). Guest instruction counts
 * come from softboard (its icount is exact and the same on every backend); QEMU's MIPS uses that count.
 * Counts of finished runs are kept in `bench/results/icounts.json` (by ELF SHA-256), so that a run cut
 * by `--timeout` still gets a total count, hence QEMU's MIPS and an estimated ratio.
 *
 * Results also go to `bench/results/<date>T<time>.json` (one file per run). See docs/performance.md.
 * @module
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../src/tcg/backend/backend.js';
import type { TcgBackendName } from '../src/hw/core/cpu.js';
import { createVirtMachine } from '../src/hw/riscv/virt.js';
import { BENCH_PROGRAMS } from './programs.js';

// ---- programs (bench/programs.ts) and options ----------------------------------------------------

// The reference interpreter is the oracle, not a contender: it runs only when asked (--backend interp).
const BACKENDS: readonly TcgBackendName[] = ['auto', 'closure', 'js', 'wasm', 'interp'];
const DEFAULT_BACKENDS: readonly TcgBackendName[] = ['auto', 'closure', 'js', 'wasm'];

type Xlen = 32 | 64;

interface Options {
  quick: boolean;
  programs: string[];
  backends: TcgBackendName[];
  xlens: Xlen[];
  /** Best of this many QEMU and native runs. */
  runs: number;
  /** Best of this many softboard runs per backend. */
  sbRuns: number;
  /** Per softboard run, seconds. */
  timeoutS: number;
  qemu: boolean;
  native: boolean;
  softboard: boolean;
  profile: boolean;
  out: string | null;
}

const USAGE = `usage: npm run bench -- [options]
  --quick               small variants (seconds, for a smoke test)
  --program <names>     only these programs (comma-separated or repeated): ${BENCH_PROGRAMS.map((p) => p.name).join(', ')}
  --backend <names>     only these softboard backends: ${BACKENDS.join(', ')}
  --arch <rv64|rv32>    only this guest width (default both)
  --runs <n>            QEMU and native: best of n (default 3)
  --sb-runs <n>         softboard: best of n per backend (default 1)
  --timeout <s>         softboard: stop a run after s seconds and report its partial rate (default 300)
  --no-qemu, --no-native, --no-softboard   skip an engine
  --profile             write a V8 CPU profile of each softboard run and print where time goes
  --out <file>          results JSON (default bench/results/<date>T<time>[-quick].json)
  --summarize <files>   print the self-time summary of .cpuprofile files written by --profile`;

class UsageError extends Error {
  override name = 'UsageError';
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    quick: false, programs: [], backends: [], xlens: [], runs: 3, sbRuns: 1, timeoutS: 300,
    qemu: true, native: true, softboard: true, profile: false, out: null,
  };
  const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const int = (flag: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} needs an integer >= ${min}, got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--quick': o.quick = true; break;
      case '--program': o.programs.push(...list(value())); break;
      case '--backend': o.backends.push(...(list(value()) as TcgBackendName[])); break;
      case '--arch': {
        const v = value();
        if (v !== 'rv64' && v !== 'rv32') throw new UsageError(`--arch must be rv64 or rv32, got '${v}'`);
        o.xlens.push(v === 'rv32' ? 32 : 64);
        break;
      }
      case '--runs': o.runs = int(a, value(), 1); break;
      case '--sb-runs': o.sbRuns = int(a, value(), 1); break;
      case '--timeout': o.timeoutS = int(a, value(), 1); break;
      case '--no-qemu': o.qemu = false; break;
      case '--no-native': o.native = false; break;
      case '--no-softboard': o.softboard = false; break;
      case '--profile': o.profile = true; break;
      case '--out': o.out = value(); break;
      case '-h': case '--help': console.log(USAGE); process.exit(0); break;
      default: throw new UsageError(`unknown option '${a}'\n${USAGE}`);
    }
  }
  const known = BENCH_PROGRAMS.map((p) => p.name as string);
  for (const p of o.programs) if (!known.includes(p)) throw new UsageError(`unknown program '${p}' (known: ${known.join(', ')})`);
  for (const b of o.backends) if (!BACKENDS.includes(b)) throw new UsageError(`unknown backend '${b}' (known: ${BACKENDS.join(', ')})`);
  if (o.programs.length === 0) o.programs = known;
  if (o.backends.length === 0) o.backends = [...DEFAULT_BACKENDS];
  if (o.xlens.length === 0) o.xlens = [64, 32];
  return o;
}

// ---- paths ---------------------------------------------------------------------------------------

/** The repository root: the first ancestor of this script holding bench/riscv/build.sh (the script runs bundled from node_modules/.cache). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'bench', 'riscv', 'build.sh'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`bench/riscv/build.sh not found above ${fileURLToPath(import.meta.url)}; run from the softboard checkout`);
    dir = up;
  }
}

interface Variant {
  program: string;
  xlen: Xlen;
  small: boolean;
  /** The committed guest binary. */
  elf: string;
  /** Flags of the host build that computes the same thing (build.sh's `expected`). */
  hostFlags: string[];
}

function variantOf(root: string, program: string, xlen: Xlen, small: boolean): Variant {
  const base = `${program}${small ? '-small' : ''}${xlen === 32 ? '-rv32' : ''}.elf`;
  const hostFlags = [...(xlen === 32 ? ['-DBENCH_RV32'] : []), ...(small ? ['-DSMALL'] : [])];
  return { program, xlen, small, elf: join(root, 'bench', 'riscv', base), hostFlags };
}

/** `intmix: checksum 0x1234abcd OK` → the checksum and the verdict. */
function parseResult(program: string, output: string): { checksum: string | null; ok: boolean } {
  const m = new RegExp(`^${program}: checksum (0x[0-9a-f]{8}) (OK|native|FAIL.*)$`, 'm').exec(output);
  if (!m) return { checksum: null, ok: false };
  return { checksum: m[1]!, ok: m[2] === 'OK' || m[2] === 'native' };
}

// ---- measurements --------------------------------------------------------------------------------

interface ProcRun {
  wallS: number;
  /** user + sys of the child (null if /usr/bin/time is missing). */
  cpuS: number | null;
  output: string;
  stderr: string;
  exitCode: number | null;
}

const GNU_TIME = '/usr/bin/time';

/** Runs a command, measuring wall time (and CPU time through GNU time when installed). */
function runProc(cmd: string, args: readonly string[], timeoutMs: number): Promise<ProcRun> {
  const timeFile = existsSync(GNU_TIME) ? join(mkdtempSync(join(tmpdir(), 'sb-bench-')), 'time') : null;
  const [bin, argv] = timeFile ? [GNU_TIME, ['-f', '%U %S', '-o', timeFile, cmd, ...args]] : [cmd, [...args]];
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [], err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => {
      const wallS = (performance.now() - t0) / 1000;
      clearTimeout(timer);
      let cpuS: number | null = null;
      if (timeFile) {
        try {
          const [u, s] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
          if (u !== undefined && s !== undefined && Number.isFinite(u + s)) cpuS = u + s;
        } catch { /* killed before GNU time wrote it */ }
        rmSync(dirname(timeFile), { recursive: true, force: true });
      }
      resolvePromise({ wallS, cpuS, output: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString('utf8'), exitCode: code });
    });
  });
}

function qemuBinary(xlen: Xlen): string {
  return xlen === 32 ? 'qemu-system-riscv32' : 'qemu-system-riscv64';
}

function toolVersion(cmd: string, args: string[], re: RegExp): string | null {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    return re.exec(out)?.[1] ?? 'unknown';
  } catch {
    return null;
  }
}

interface EngineResult {
  engine: string;
  /** Best wall time of the measured part (s): the whole QEMU/native process; softboard's run() alone. */
  wallS: number | null;
  cpuS: number | null;
  checksum: string | null;
  ok: boolean;
  note?: string;
}

/** Best (lowest wall) of `runs` QEMU runs. */
async function measureQemu(v: Variant, runs: number): Promise<EngineResult> {
  let best: ProcRun | null = null;
  for (let i = 0; i < runs; i++) {
    const r = await runProc(qemuBinary(v.xlen), ['-M', 'virt', '-bios', 'none', '-nographic', '-monitor', 'none',
      '-serial', 'stdio', '-kernel', v.elf], 120_000);
    const res = parseResult(v.program, r.output);
    if (r.exitCode !== 0 || !res.ok) {
      return { engine: 'qemu', wallS: null, cpuS: null, checksum: res.checksum, ok: false,
        note: `exit ${r.exitCode}: ${JSON.stringify(r.output.slice(-200))} ${r.stderr.slice(-200)}` };
    }
    if (!best || r.wallS < best.wallS) best = r;
  }
  const b = best!;
  return { engine: 'qemu', wallS: b.wallS, cpuS: b.cpuS, checksum: parseResult(v.program, b.output).checksum, ok: true };
}

/** QEMU's start-up + shutdown cost: the empty program's best wall time, and its least CPU time. */
async function measureQemuStartup(root: string, xlen: Xlen, runs: number): Promise<{ wallS: number; cpuS: number | null } | null> {
  const elf = join(root, 'bench', 'riscv', xlen === 32 ? 'empty-rv32.elf' : 'empty.elf');
  let wallS = Infinity, cpuS: number | null = null;
  for (let i = 0; i < Math.max(runs, 3); i++) {
    const r = await runProc(qemuBinary(xlen), ['-M', 'virt', '-bios', 'none', '-nographic', '-monitor', 'none',
      '-serial', 'stdio', '-kernel', elf], 30_000);
    if (r.exitCode !== 0) return null;
    wallS = Math.min(wallS, r.wallS);
    if (r.cpuS !== null) cpuS = Math.min(cpuS ?? Infinity, r.cpuS);
  }
  return { wallS, cpuS };
}

/** Builds the program for the host (as build.sh does) and runs it: best of `runs`. */
async function measureNative(root: string, v: Variant, runs: number, work: string): Promise<EngineResult> {
  const exe = join(work, `${v.program}${v.hostFlags.join('')}`);
  try {
    execFileSync(process.env['HOSTCC'] ?? 'cc', ['-O2', '-Wall', '-ffp-contract=off', '-fno-math-errno', '-DBENCH_HOST',
      ...v.hostFlags, join(root, 'bench', 'riscv', `${v.program}.c`), '-o', exe], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    return { engine: 'native', wallS: null, cpuS: null, checksum: null, ok: false, note: `host build failed: ${(e as Error).message}` };
  }
  let best: ProcRun | null = null;
  for (let i = 0; i < runs; i++) {
    const r = await runProc(exe, [], 120_000);
    if (r.exitCode !== 0) return { engine: 'native', wallS: null, cpuS: null, checksum: null, ok: false, note: `exit ${r.exitCode}` };
    if (!best || r.wallS < best.wallS) best = r;
  }
  const b = best!;
  const res = parseResult(v.program, b.output);
  return { engine: 'native', wallS: b.wallS, cpuS: b.cpuS, checksum: res.checksum, ok: res.ok };
}

/** What a softboard worker reports. */
interface WorkerResult {
  setupMs: number;
  runMs: number;
  /** Process CPU time during run() (ms): includes V8's compiler and GC threads. */
  cpuMs: number;
  instructions: number;
  reason: string;
  shutdown: { kind: string; status: number } | null;
  output: string;
  /** Time inside TbCache.generate (guest decode → IR → optimizer → backend), and inside the backend alone. */
  translateMs: number;
  compileMs: number;
  stats: Record<string, unknown>;
  profile: string | null;
}

interface WorkerJob {
  elf: string;
  xlen: Xlen;
  backend: TcgBackendName;
  timeoutMs: number;
}

/**
 * The worker: one softboard run of one program, in this process. Times translation by wrapping the
 * machine's own TB cache (its `generate` and its backend), which touches nothing shared.
 */
function worker(job: WorkerJob): WorkerResult {
  const kernel = readFileSync(job.elf);
  const t0 = performance.now();
  const m = createVirtMachine({ arch: job.xlen === 32 ? 'riscv32' : 'riscv64', bios: 'none', kernel, backend: job.backend,
    names: { kernel: job.elf } });
  const cache = m.tbCache as unknown as { generate: (...a: unknown[]) => unknown; backend: Backend };
  let translateMs = 0, compileMs = 0;
  const generate = cache.generate.bind(cache);
  cache.generate = (...a: unknown[]) => {
    const s = performance.now();
    try {
      return generate(...a);
    } finally {
      translateMs += performance.now() - s;
    }
  };
  const inner = cache.backend;
  cache.backend = {
    name: inner.name,
    ...(inner.optimizesLazily !== undefined ? { optimizesLazily: inner.optimizesLazily } : {}),
    ...(inner.wasmTier !== undefined ? { wasmTier: inner.wasmTier } : {}),
    compile: (fn, hooks) => {
      const s = performance.now();
      try {
        return inner.compile(fn, hooks);
      } finally {
        compileMs += performance.now() - s;
      }
    },
  };
  const t1 = performance.now();
  const c0 = process.cpuUsage();
  const r = m.run({ timeoutMs: job.timeoutMs });
  const t2 = performance.now();
  const c = process.cpuUsage(c0);
  const serial = m.serial as { output?: unknown };
  return {
    setupMs: t1 - t0, runMs: t2 - t1, cpuMs: (c.user + c.system) / 1000, instructions: r.instructions, reason: r.reason,
    shutdown: m.shutdownInfo ? { kind: m.shutdownInfo.kind, status: m.shutdownInfo.status } : null,
    output: typeof serial.output === 'string' ? serial.output : '',
    translateMs, compileMs, stats: { ...m.harts[0]!.stats }, profile: null,
  };
}

const WORKER_MARK = 'SOFTBOARD-BENCH-RESULT ';

/** Runs one softboard measurement in a child process. */
async function runWorker(job: WorkerJob, profileDir: string | null): Promise<WorkerResult> {
  const script = fileURLToPath(import.meta.url);
  const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const before = profileDir ? new Set(readdirSync(profileDir)) : null;
  const r = await runProc(process.execPath, [...nodeArgs, script, '--worker', JSON.stringify(job)], job.timeoutMs + 120_000);
  const line = r.output.split('\n').find((l) => l.startsWith(WORKER_MARK));
  if (!line) throw new Error(`softboard worker failed (exit ${r.exitCode}):\n${r.stderr.slice(-3000)}`);
  const res = JSON.parse(line.slice(WORKER_MARK.length)) as WorkerResult;
  if (profileDir && before) res.profile = readdirSync(profileDir).map((f) => join(profileDir, f)).find((f) => !before.has(f.slice(profileDir.length + 1))) ?? null;
  return res;
}

// ---- CPU profile summary -------------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/**
 * Which source file each line of a bundled script comes from: esbuild (under tsup) starts every module
 * with a `// src/…/file.ts` comment, so a profile of the bundle can be told by source file.
 */
function bundleModuleMap(url: string): ((line: number) => string) | null {
  let text: string;
  try {
    text = readFileSync(url.startsWith('file:') ? fileURLToPath(url) : url, 'utf8');
  } catch {
    return null;
  }
  const starts: [number, string][] = [];
  text.split('\n').forEach((l, i) => {
    const m = /^\/\/ ((?:src|bench|node_modules)\/\S+\.[cm]?[jt]s)$/.exec(l);
    if (m) starts.push([i, m[1]!]);
  });
  if (starts.length === 0) return null;
  return (line) => {
    let lo = 0, hi = starts.length - 1, best = starts[0]![1];
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]![0] <= line) { best = starts[mid]![1]; lo = mid + 1; } else hi = mid - 1;
    }
    return best;
  };
}

/** Self time per function and per source file of a V8 .cpuprofile, heaviest first (percent of samples). */
export function summarizeProfile(path: string, top = 15): { functions: [string, number][]; files: [string, number][] } {
  const prof = JSON.parse(readFileSync(path, 'utf8')) as { nodes: ProfileNode[]; samples?: number[] };
  const hits = new Map<number, number>();
  for (const s of prof.samples ?? []) hits.set(s, (hits.get(s) ?? 0) + 1);
  const maps = new Map<string, ((line: number) => string) | null>();
  const fileOf = (url: string, line: number): string => {
    if (!url) return '(native)';
    if (!maps.has(url)) maps.set(url, url.includes('node_modules/.cache/softboard-bench/') ? bundleModuleMap(url) : null);
    return maps.get(url)?.(line) ?? url.replace(/^.*\/(src|bench|node_modules)\//, '$1/');
  };
  let total = 0;
  const byFn = new Map<string, number>(), byFile = new Map<string, number>();
  for (const n of prof.nodes) {
    const h = hits.get(n.id) ?? n.hitCount ?? 0;
    if (h === 0) continue;
    total += h;
    const file = fileOf(n.callFrame.url, n.callFrame.lineNumber);
    const fn = `${n.callFrame.functionName || '(anonymous)'}  ${file}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + h);
    byFile.set(file, (byFile.get(file) ?? 0) + h);
  }
  const pct = (m: Map<string, number>): [string, number][] =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => [k, (100 * v) / Math.max(total, 1)]);
  return { functions: pct(byFn), files: pct(byFile) };
}

// ---- instruction counts of finished runs ----

interface IcountEntry {
  sha256: string;
  instructions: number;
}

/** Known guest instruction counts by ELF name, valid while the ELF's hash matches. */
class IcountCache {
  private readonly entries: Record<string, IcountEntry>;
  private dirty = false;
  constructor(private readonly path: string) {
    let e: Record<string, IcountEntry> = {};
    try {
      e = JSON.parse(readFileSync(path, 'utf8')) as Record<string, IcountEntry>;
    } catch { /* none yet */ }
    this.entries = e;
  }
  static hash(elf: string): string {
    return createHash('sha256').update(readFileSync(elf)).digest('hex');
  }
  get(elf: string): number | null {
    const e = this.entries[elf.replace(/^.*\//, '')];
    return e && e.sha256 === IcountCache.hash(elf) ? e.instructions : null;
  }
  /** Records a finished run's count; returns the previous, different count if there was one (a determinism bug). */
  set(elf: string, instructions: number): number | null {
    const prev = this.get(elf);
    if (prev === instructions) return null;
    this.entries[elf.replace(/^.*\//, '')] = { sha256: IcountCache.hash(elf), instructions };
    this.dirty = true;
    return prev;
  }
  save(): void {
    if (!this.dirty) return;
    const sorted = Object.fromEntries(Object.entries(this.entries).sort(([a], [b]) => a.localeCompare(b)));
    writeFileSync(`${this.path}.tmp`, JSON.stringify(sorted, null, 2) + '\n');
    renameSync(`${this.path}.tmp`, this.path);
  }
}

// ---- the run -------------------------------------------------------------------------------------

interface Row {
  program: string;
  arch: string;
  engine: string;
  wallS: number | null;
  cpuS: number | null;
  /** Guest instructions (softboard's icount); for a softboard run cut by the timeout, those it executed. */
  minsns: number | null;
  /** Million guest instructions per second of wall time, and of CPU time. */
  mips: number | null;
  mipsCpu: number | null;
  /** QEMU's time (start-up subtracted) ÷ this engine's time: wall, and CPU (fairer on a loaded host). */
  vsQemu: number | null;
  vsQemuCpu: number | null;
  /** vsQemu is estimated from a partial run. */
  estimated: boolean;
  nativeS: number | null;
  checksum: string | null;
  ok: boolean;
  note?: string;
  softboard?: {
    setupMs: number; translateMs: number; compileMs: number; reason: string;
    stats: Record<string, unknown>; profile: string | null;
  };
}

function fmt(v: number | null, digits: number): string {
  if (v === null || !Number.isFinite(v)) return '-';
  if (v !== 0 && Math.abs(v) < 10 ** -digits) return v.toPrecision(2);
  return v.toFixed(digits);
}

function printTable(headers: string[], rows: string[][]): void {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  console.log(line(headers));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
}

async function main(argv: readonly string[]): Promise<number> {
  const o = parseArgs(argv);
  const root = findRoot();
  const date = new Date();
  const work = mkdtempSync(join(tmpdir(), 'sb-bench-native-'));
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const profileDir = o.profile ? join(resultsDir, `profile-${date.toISOString().replace(/[:.]/g, '-')}`) : null;
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  const host = {
    node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length, loadavg: loadavg(),
    qemu: toolVersion('qemu-system-riscv64', ['--version'], /version (\S+)/),
    cc: toolVersion(process.env['HOSTCC'] ?? 'cc', ['--version'], /^(.*)$/m),
  };
  const qemuOk = o.qemu && host.qemu !== null;
  if (o.qemu && !qemuOk) console.warn('qemu-system-riscv64 not found: QEMU columns skipped (Debian: apt-get install qemu-system-misc)');
  console.log(`softboard bench${o.quick ? ' (quick: small variants)' : ''} — node ${host.node}, ${host.cpus}× ${host.cpu}, load ${host.loadavg.map((l) => l.toFixed(2)).join(' ')}, QEMU ${host.qemu ?? 'absent'}`);

  const icounts = new IcountCache(join(resultsDir, 'icounts.json'));
  const startup = new Map<Xlen, { wallS: number; cpuS: number | null } | null>();
  const rows: Row[] = [];
  let failures = 0;
  for (const p of BENCH_PROGRAMS) {
    if (!o.programs.includes(p.name)) continue;
    for (const xlen of o.xlens) {
      if (xlen === 32 && !p.rv32) continue;
      const v = variantOf(root, p.name, xlen, o.quick);
      const arch = `rv${xlen}`;
      process.stderr.write(`${p.name} ${arch}:`);
      const native = o.native ? await measureNative(root, v, o.runs, work) : null;
      process.stderr.write(native ? ' native' : '');
      let qemu: EngineResult | null = null;
      if (qemuOk) {
        if (!startup.has(xlen)) startup.set(xlen, await measureQemuStartup(root, xlen, o.runs));
        qemu = await measureQemu(v, o.runs);
        process.stderr.write(' qemu');
      }
      const sb: { backend: TcgBackendName; res: WorkerResult | null; error?: string }[] = [];
      if (o.softboard) {
        for (const backend of o.backends) {
          let best: WorkerResult | null = null;
          let error: string | undefined;
          for (let i = 0; i < o.sbRuns; i++) {
            try {
              const r = await runWorker({ elf: v.elf, xlen, backend, timeoutMs: o.timeoutS * 1000 }, profileDir);
              if (!best || r.runMs < best.runMs) best = r;
            } catch (e) {
              error = (e as Error).message;
              break;
            }
          }
          sb.push({ backend, res: best, ...(error !== undefined ? { error } : {}) });
          process.stderr.write(` softboard/${backend}`);
        }
      }
      process.stderr.write('\n');

      // The instruction count of the whole program: from a softboard run that finished, else from the cache.
      const done = sb.find((s) => s.res?.reason === 'shutdown' && s.res.shutdown?.status === 0);
      if (done?.res) {
        const prev = icounts.set(v.elf, done.res.instructions);
        if (prev !== null) console.warn(`${v.elf}: ${done.res.instructions} instructions, but an earlier run of the same ELF counted ${prev}`);
      }
      const totalInsns = done?.res ? done.res.instructions : icounts.get(v.elf);
      const qemuStart = startup.get(xlen) ?? null;
      const qemuNet = qemu?.wallS != null ? Math.max(qemu.wallS - (qemuStart?.wallS ?? 0), 1e-3) : null;
      const qemuNetCpu = qemu?.cpuS != null ? Math.max(qemu.cpuS - (qemuStart?.cpuS ?? 0), 1e-3) : null;
      const ratio = (net: number | null, t: number | null): number | null => (net !== null && t !== null && t > 0 ? net / t : null);
      const rate = (n: number | null, t: number | null): number | null => (n !== null && t !== null && t > 0 ? n / t / 1e6 : null);
      const nativeS = native?.wallS ?? null;
      const expected = native?.checksum ?? qemu?.checksum ?? null;
      const base = { program: p.name, arch, nativeS };
      if (native) {
        rows.push({ ...base, engine: 'native', wallS: native.wallS, cpuS: native.cpuS, minsns: null, mips: null, mipsCpu: null,
          vsQemu: ratio(qemuNet, native.wallS), vsQemuCpu: ratio(qemuNetCpu, native.cpuS), estimated: false,
          checksum: native.checksum, ok: native.ok, ...(native.note !== undefined ? { note: native.note } : {}) });
      }
      if (qemu) {
        const ok = qemu.ok && (expected === null || qemu.checksum === expected);
        rows.push({ ...base, engine: 'qemu', wallS: qemu.wallS, cpuS: qemu.cpuS, minsns: totalInsns !== null ? totalInsns / 1e6 : null,
          mips: rate(totalInsns, qemuNet), mipsCpu: rate(totalInsns, qemuNetCpu), vsQemu: qemuNet !== null ? 1 : null,
          vsQemuCpu: qemuNetCpu !== null ? 1 : null, estimated: false, checksum: qemu.checksum, ok,
          note: qemu.note ?? `start-up ${fmt(qemuStart?.wallS ?? null, 3)} s wall, ${fmt(qemuStart?.cpuS ?? null, 3)} s CPU subtracted for MIPS and ratios` });
      }
      for (const s of sb) {
        const r = s.res;
        if (!r) {
          rows.push({ ...base, engine: `softboard/${s.backend}`, wallS: null, cpuS: null, minsns: null, mips: null, mipsCpu: null,
            vsQemu: null, vsQemuCpu: null, estimated: false, checksum: null, ok: false, note: s.error ?? 'no result' });
          continue;
        }
        const runS = r.runMs / 1000;
        const finished = r.reason === 'shutdown';
        const res = parseResult(p.name, r.output);
        const ok = finished && r.shutdown?.status === 0 && res.ok && (expected === null || res.checksum === expected);
        const cpuS = r.cpuMs / 1000;
        const mips = rate(r.instructions, runS), mipsCpu = rate(r.instructions, cpuS);
        // A partial run: the whole program would take totalInsns / rate.
        const whole = (t: number, m: number | null): number | null => (finished ? t : totalInsns !== null && m ? totalInsns / (m * 1e6) : null);
        rows.push({
          ...base, engine: `softboard/${s.backend}`, wallS: runS, cpuS, minsns: r.instructions / 1e6, mips, mipsCpu,
          vsQemu: ratio(qemuNet, whole(runS, mips)), vsQemuCpu: ratio(qemuNetCpu, whole(cpuS, mipsCpu)), estimated: !finished, checksum: res.checksum, ok: finished ? ok : false,
          ...(finished ? (ok ? {} : { note: `output ${JSON.stringify(r.output.slice(-200))}, shutdown ${JSON.stringify(r.shutdown)}` })
            : { note: `stopped (${r.reason}) after ${fmt(runS, 1)} s; rate from the partial run` }),
          softboard: { setupMs: r.setupMs, translateMs: r.translateMs, compileMs: r.compileMs, reason: r.reason, stats: r.stats, profile: r.profile },
        });
      }
    }
  }
  rmSync(work, { recursive: true, force: true });
  icounts.save();

  console.log('');
  const vs = (v: number | null, est: boolean): string => (v === null ? '-' : `${est ? '~' : ''}${fmt(v, 4)}`);
  printTable(['program', 'arch', 'engine', 'wall s', 'cpu s', 'guest Minsns', 'MIPS', 'MIPS cpu', 'vs QEMU', 'vs QEMU cpu', 'native s', 'check'],
    rows.map((r) => [r.program, r.arch, r.engine, fmt(r.wallS, 3), fmt(r.cpuS, 3), fmt(r.minsns, 1), fmt(r.mips, 1), fmt(r.mipsCpu, 1),
      vs(r.vsQemu, r.estimated), vs(r.vsQemuCpu, r.estimated), fmt(r.nativeS, 3), r.ok ? 'OK' : r.estimated ? 'partial' : 'FAIL']));
  console.log('\nwall s: QEMU and native = the whole process (best of runs); softboard = Machine.run() alone, setup excluded.');
  console.log('cpu s: user + sys of the process (GNU time, 10 ms steps; softboard: process.cpuUsage, V8 compiler and GC threads included).');
  console.log('vs QEMU = QEMU time (empty-program start-up subtracted) / engine time: >1 is faster than QEMU. ~ = estimated from a partial run.');
  if (host.loadavg[0]! > host.cpus) console.log(`the host was loaded (load ${host.loadavg[0]!.toFixed(1)} on ${host.cpus} CPUs): trust the cpu columns over the wall ones.`);
  if (o.quick) console.log('--quick: QEMU runs last a few ms beyond its start-up, so its MIPS and the ratios are noise; use the full run for them.');

  const sbRows = rows.filter((r) => r.softboard);
  if (sbRows.length > 0) {
    console.log('\nsoftboard translation and code cache:');
    printTable(['program', 'arch', 'engine', 'setup ms', 'translate ms', '(backend ms)', 'TBs', 'insns/TB', 'TBs run', 'chained %', 'TLB fills', 'flushes'],
      sbRows.map((r) => {
        const s = r.softboard!;
        const st = s.stats as Record<string, number>;
        const tbs = st['tbsTranslated'] ?? 0;
        return [r.program, r.arch, r.engine, fmt(s.setupMs, 1), fmt(s.translateMs, 1), fmt(s.compileMs, 1), String(tbs),
          fmt(tbs > 0 ? (st['insnsTranslated'] ?? 0) / tbs : null, 1), String(st['tbsExecuted'] ?? '-'),
          fmt(st['tbsExecuted'] ? (100 * (st['chainedExits'] ?? 0)) / st['tbsExecuted'] : null, 1),
          String((s.stats['tlb'] as Record<string, number> | undefined)?.['fills'] ?? '-'), String(st['flushes'] ?? '-')];
      }));
  }
  for (const r of sbRows) {
    const prof = r.softboard!.profile;
    if (!prof) continue;
    const sum = summarizeProfile(prof);
    console.log(`\nprofile ${r.program} ${r.arch} ${r.engine} (${prof}): self time by file`);
    for (const [f, pct] of sum.files.slice(0, 8)) console.log(`  ${pct.toFixed(1).padStart(5)}%  ${f}`);
    console.log('  top functions:');
    for (const [f, pct] of sum.functions) console.log(`  ${pct.toFixed(1).padStart(5)}%  ${f}`);
  }

  for (const r of rows) {
    if (!r.ok && !r.estimated) {
      failures++;
      console.log(`\nFAIL ${r.program} ${r.arch} ${r.engine}: ${r.note ?? `checksum ${r.checksum}`}`);
    }
  }

  // One file per run (date and time), so a run never overwrites an earlier record.
  const stamp = date.toISOString().slice(0, 19).replace(/[:]/g, '');
  const out = resolve(o.out ?? join(resultsDir, `${stamp}${o.quick ? '-quick' : ''}.json`));
  const tmp = `${out}.tmp`;
  writeFileSync(tmp, JSON.stringify({ date: date.toISOString(), host, options: o, qemuStartupS: Object.fromEntries(startup), rows }, null, 2) + '\n');
  renameSync(tmp, out);
  console.log(`\nresults: ${out}`);
  return failures > 0 ? 1 : 0;
}

// ---- entry ---------------------------------------------------------------------------------------

const args = process.argv.slice(2);
if (args[0] === '--summarize') {
  // Summary of a profile written earlier: npm run bench -- --summarize <file.cpuprofile>
  for (const f of args.slice(1)) {
    const sum = summarizeProfile(f, 25);
    console.log(`${f}\n  self time by file:`);
    for (const [name, pct] of sum.files) console.log(`  ${pct.toFixed(1).padStart(5)}%  ${name}`);
    console.log('  top functions:');
    for (const [name, pct] of sum.functions) console.log(`  ${pct.toFixed(1).padStart(5)}%  ${name}`);
  }
} else if (args[0] === '--worker') {
  const res = worker(JSON.parse(args[1] ?? '{}') as WorkerJob);
  process.stdout.write(WORKER_MARK + JSON.stringify(res) + '\n');
} else {
  main(args).then((code) => { process.exitCode = code; }, (e: unknown) => {
    console.error(e instanceof UsageError ? e.message : e);
    process.exitCode = 2;
  });
}
