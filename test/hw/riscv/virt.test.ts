/**
 * The RISC-V virt board against QEMU 7.2's: the boot ROM (reset stub + fw_dynamic_info), the device
 * tree, the memory map, image placement and the loader's errors. Where QEMU is installed the reference
 * values come from QEMU itself (monitor `xp`, `info mtree -f`, `dumpdtb`); otherwise those tests skip.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createVirtMachine, VirtMachineError, VIRT_MEMMAP, type VirtMachineOptions } from '../../../src/hw/riscv/virt.js';
import { parseFwDynamicInfo, RESET_VEC_SIZE } from '../../../src/hw/riscv/boot.js';
import { Fdt, parseFdt, type FdtNode } from '../../../src/hw/core/fdt.js';
import { qemuAvailable, type RiscvXlen } from '../../helpers/qemu.js';
import { qemuDumpDtb, qemuFlatMemoryMap, qemuMonitor, qemuReadWords } from './qemu-virt.js';
import { addi, auipc, code, csrrs, csrrw, j, lbu, lui, lw, mret, sb, slli, sw, wfi, X } from '../../machine/rv-asm.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtureDir = join(here, '../../fixtures/riscv');
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(fixtureDir, name)));
const hello = (xlen: RiscvXlen): string => (xlen === 32 ? 'hello-rv32.elf' : 'hello.elf');
const archOf = (xlen: RiscvXlen): 'riscv32' | 'riscv64' => (xlen === 32 ? 'riscv32' : 'riscv64');

/** Runs `fn` with a temporary directory holding `files`; QEMU needs paths. */
function withFiles<T>(files: Record<string, Uint8Array>, fn: (path: (name: string) => string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'softboard-virt-'));
  try {
    for (const [n, b] of Object.entries(files)) writeFileSync(join(dir, n), b);
    return fn((n) => join(dir, n));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function words(bytes: Uint8Array): number[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 4 }, (_, i) => dv.getUint32(i * 4, true));
}

/** A raw "kernel" image: a few recognizable bytes. */
const rawKernel = new Uint8Array(64).map((_, i) => (i * 7 + 1) & 0xff);

interface BootCase {
  readonly title: string;
  readonly xlen: RiscvXlen;
  /** softboard options (without arch) and the equivalent QEMU arguments, built from the same files. */
  readonly files: Record<string, Uint8Array>;
  readonly options: VirtMachineOptions;
  readonly qemuArgs: (path: (name: string) => string) => string[];
}

const bootCases: BootCase[] = ([64, 32] as const).flatMap((xlen): BootCase[] => [
  {
    title: `rv${xlen} -bios none -kernel ${hello(xlen)}`, xlen,
    files: { 'k.elf': fixture(hello(xlen)) },
    options: { bios: 'none', kernel: fixture(hello(xlen)) },
    qemuArgs: (p) => ['-bios', 'none', '-kernel', p('k.elf')],
  },
  {
    title: `rv${xlen} -m 256M -bios none -kernel ${hello(xlen)} -append`, xlen,
    files: { 'k.elf': fixture(hello(xlen)) },
    options: { memory: '256M', bios: 'none', kernel: fixture(hello(xlen)), append: 'console=ttyS0 earlycon' },
    qemuArgs: (p) => ['-m', '256M', '-bios', 'none', '-kernel', p('k.elf'), '-append', 'console=ttyS0 earlycon'],
  },
  {
    title: `rv${xlen} -bios ${hello(xlen)} -kernel raw (kernel after the firmware, fw_dynamic next_addr)`, xlen,
    files: { 'fw.elf': fixture(hello(xlen)), 'k.bin': rawKernel },
    options: { bios: fixture(hello(xlen)), kernel: rawKernel },
    qemuArgs: (p) => ['-bios', p('fw.elf'), '-kernel', p('k.bin')],
  },
]);

/** Bytes of the mrom QEMU fills: the stub and fw_dynamic_info, plus a few words after them. */
const MROM_WORDS = 26;

describe('boot ROM', () => {
  for (const c of bootCases) {
    it.skipIf(!qemuAvailable(c.xlen))(`equals QEMU's word for word: ${c.title}`, () => {
      const m = createVirtMachine({ arch: archOf(c.xlen), ...c.options });
      const ours = words(m.readMemory(VIRT_MEMMAP.mrom.base, MROM_WORDS * 4));
      const theirs = withFiles(c.files, (p) => qemuReadWords(c.xlen, c.qemuArgs(p), VIRT_MEMMAP.mrom.base, MROM_WORDS));
      expect(ours).toEqual(theirs);
    });
  }

  it('hands OpenSBI a fw_dynamic_info naming the kernel, in S-mode, for hart 0', () => {
    for (const xlen of [64, 32] as const) {
      const m = createVirtMachine({ arch: archOf(xlen), bios: fixture(hello(xlen)), kernel: rawKernel });
      const info = parseFwDynamicInfo(xlen, m.readMemory(VIRT_MEMMAP.mrom.base + BigInt(RESET_VEC_SIZE), 6 * (xlen / 8)));
      // Values from OpenSBI's include/sbi/fw_dynamic.h and QEMU's riscv_calc_kernel_start_addr.
      expect(info).toEqual({
        magic: 0x4942534fn, version: 2n, nextAddr: xlen === 64 ? 0x80200000n : 0x80400000n, nextMode: 1n, options: 0n, bootHart: 0n,
      });
      // The raw kernel really is there.
      expect(m.readMemory(info.nextAddr, rawKernel.length)).toEqual(rawKernel);
    }
  });

  it.skipIf(!qemuAvailable(64))("starts the harts with QEMU's pc, mip and mie", () => {
    const m = createVirtMachine({ bios: 'none', kernel: fixture('hello.elf') });
    const text = withFiles({ 'k.elf': fixture('hello.elf') }, (p) => qemuMonitor(64, ['-bios', 'none', '-kernel', p('k.elf')], ['info registers']))!;
    for (const reg of ['pc', 'mip', 'mie', 'mstatus']) {
      const q = new RegExp(`\\b${reg}\\s+([0-9a-f]{16})`).exec(text);
      expect(q, reg).not.toBeNull();
      expect(m.getRegister(reg), reg).toBe(BigInt('0x' + q![1]!));
    }
  });

  it('passes a0 = hart id, a1 = FDT address, a2 = &fw_dynamic_info to the entry', () => {
    const m = createVirtMachine({ bios: 'none', kernel: fixture('hello.elf'), cpus: 2 });
    for (const [hart, cpu] of m.harts.entries()) {
      // Step each hart through the 6-instruction stub alone.
      for (let i = 0; i < 6; i++) cpu.step();
      expect(cpu.pc).toBe(m.bootInfo.startAddr);
      expect(cpu.getRegister('a0')).toBe(BigInt(hart));
      expect(cpu.getRegister('a1')).toBe(m.bootInfo.fdtAddr);
      expect(cpu.getRegister('a2')).toBe(VIRT_MEMMAP.mrom.base + BigInt(RESET_VEC_SIZE));
    }
    // The FDT really is at a1.
    const blob = m.readMemory(m.bootInfo.fdtAddr, m.bootInfo.fdtSize);
    expect(parseFdt(blob).node('/soc/serial@10000000')).toBeDefined();
  });
});

// ---- device tree ---------------------------------------------------------------------------------

/** Nodes QEMU 7.2 has that softboard leaves out on purpose (devices it does not emulate). */
const OMITTED_NODES = ['/pmu', '/fw-cfg@10100000', '/platform-bus@4000000', '/soc/pci@30000000'];
/** Properties that differ on purpose: random seed, and the ISA string (what our CPU implements). */
const OMITTED_PROPS = ['/chosen:rng-seed'];
const DIFFERENT_PROPS = ['riscv,isa'];

function flatten(fdt: Fdt): Map<string, Map<string, Uint8Array>> {
  const out = new Map<string, Map<string, Uint8Array>>();
  const visit = (n: FdtNode): void => {
    out.set(n.path, new Map(n.properties));
    for (const k of n.children) visit(k);
  };
  visit(fdt.root);
  return out;
}

const fdtCases: Array<{ title: string; xlen: RiscvXlen; options: VirtMachineOptions; qemuArgs: string[] }> = [
  { title: 'default (1 hart, 128M)', xlen: 64, options: {}, qemuArgs: [] },
  { title: '-smp 2 -m 512M -append', xlen: 64, options: { cpus: 2, memory: '512M', append: 'root=/dev/vda ro' }, qemuArgs: ['-smp', '2', '-m', '512M', '-append', 'root=/dev/vda ro'] },
  { title: 'rv32 -smp 3', xlen: 32, options: { cpus: 3 }, qemuArgs: ['-smp', '3'] },
];

describe('device tree', () => {
  for (const c of fdtCases) {
    it.skipIf(!qemuAvailable(c.xlen))(`has QEMU's nodes and properties: ${c.title}`, () => {
      // The kernel is needed for -append; the images do not change the tree otherwise.
      const kernel = fixture(hello(c.xlen));
      const m = createVirtMachine({ arch: archOf(c.xlen), bios: 'none', kernel, ...c.options });
      const ours = flatten(m.fdt);
      const theirsBlob = withFiles({ 'k.elf': kernel }, (p) => qemuDumpDtb(c.xlen, ['-bios', 'none', '-kernel', p('k.elf'), ...c.qemuArgs]));
      const theirs = flatten(parseFdt(theirsBlob!));
      const expectedNodes = [...theirs.keys()].filter((p) => !OMITTED_NODES.some((o) => p === o || p.startsWith(o + '/')));
      expect([...ours.keys()].sort()).toEqual(expectedNodes.sort());
      for (const path of expectedNodes) {
        const mine = ours.get(path)!;
        const ref = theirs.get(path)!;
        const names = [...ref.keys()].filter((n) => !OMITTED_PROPS.includes(`${path}:${n}`));
        expect([...mine.keys()].sort(), path).toEqual(names.sort());
        for (const n of names) {
          if (DIFFERENT_PROPS.includes(n)) continue;
          expect([path, n, Buffer.from(mine.get(n)!).toString('hex')]).toEqual([path, n, Buffer.from(ref.get(n)!).toString('hex')]);
        }
      }
      // The ISA string starts like QEMU's and names extensions the hart has.
      const isa = m.fdt.node('/cpus/cpu@0')!.getPropString('riscv,isa')!;
      expect(isa).toMatch(new RegExp(`^rv${c.xlen}imafdc_zicsr_zifencei`));
      expect(m.harts[0]!.isaString.startsWith(isa.split('_sstc')[0]!)).toBe(true);
    });
  }

  it.skipIf(!qemuAvailable(64))('puts -append and -initrd in /chosen as QEMU does', () => {
    const initrd = new Uint8Array(1000).map((_, i) => i & 0xff);
    const kernel = fixture('hello.elf');
    const m = createVirtMachine({ bios: 'none', kernel, initrd, append: 'console=ttyS0 x=1' });
    const theirs = withFiles({ 'k.elf': kernel, 'i.bin': initrd }, (p) =>
      parseFdt(qemuDumpDtb(64, ['-bios', 'none', '-kernel', p('k.elf'), '-initrd', p('i.bin'), '-append', 'console=ttyS0 x=1'])!));
    const chosen = m.fdt.node('/chosen')!;
    for (const n of ['bootargs', 'linux,initrd-start', 'linux,initrd-end', 'stdout-path']) {
      expect(Buffer.from(chosen.getProp(n)!).toString('hex'), n).toBe(Buffer.from(theirs.node('/chosen')!.getProp(n)!).toString('hex'));
    }
    const start = BigInt(chosen.getPropU32('linux,initrd-start')!);
    expect(m.readMemory(start, initrd.length)).toEqual(initrd);
  });

  it('decompiles with dtc without warnings', () => {
    let dtcOk = true;
    try { execFileSync('dtc', ['--version'], { stdio: 'ignore' }); } catch { dtcOk = false; }
    if (!dtcOk) return;
    const m = createVirtMachine({ cpus: 2 });
    const r = withFiles({ 'v.dtb': m.fdtBlob }, (p) => {
      try {
        return { out: execFileSync('dtc', ['-I', 'dtb', '-O', 'dts', p('v.dtb')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), err: '' };
      } catch (e) {
        return { out: '', err: String((e as { stderr?: unknown }).stderr ?? e) };
      }
    });
    expect(r.err).toBe('');
    expect(r.out).toContain('stdout-path = "/soc/serial@10000000";');
    // Every node of the reference dts we emulate is there.
    const ref = readFileSync('/work/shared/reference/qemu-riscv64-virt.dts', 'utf8');
    const names = (dts: string): Set<string> => new Set([...dts.matchAll(/^\s*([a-z0-9_,.-]+(?:@[0-9a-f]+)?) \{$/gm)].map((x) => x[1]!));
    const omitted = new Set(['pmu', 'fw-cfg@10100000', 'platform-bus@4000000', 'pci@30000000']);
    for (const n of names(ref)) if (!omitted.has(n)) expect(names(r.out), n).toContain(n);
  });

  it('uses a -dtb blob instead of the generated tree, with /chosen bootargs set in it', () => {
    const user = new Fdt();
    user.root.setPropString('model', 'my board');
    const m = createVirtMachine({ bios: 'none', kernel: fixture('hello.elf'), dtb: user.toBlob(), append: 'quiet' });
    const loaded = parseFdt(m.readMemory(m.bootInfo.fdtAddr, m.bootInfo.fdtSize));
    expect(loaded.root.getPropString('model')).toBe('my board');
    expect(loaded.node('/chosen')!.getPropString('bootargs')).toBe('quiet');
    expect(loaded.node('/soc')).toBeUndefined();
  });
});

// ---- memory map ------------------------------------------------------------------------------------

/** softboard region names for QEMU's (the kinds must match too). */
const REGION_NAMES: Record<string, string> = {
  'riscv_virt_board.mrom': 'riscv_virt_board.mrom',
  'riscv_virt_board.ram': 'riscv_virt_board.ram',
  'riscv.sifive.test': 'riscv.sifive.test',
  goldfish_rtc: 'goldfish_rtc',
  'riscv.aclint.swi': 'riscv.aclint.swi',
  'riscv.aclint.mtimer': 'riscv.aclint.mtimer',
  'riscv.sifive.plic': 'riscv.sifive.plic',
  'virtio-mmio': 'virtio-mmio',
  serial: 'serial',
  'virt.flash0': 'virt.flash0',
  'virt.flash1': 'virt.flash1',
};

describe('memory map', () => {
  it.skipIf(!qemuAvailable(64))("places every emulated region where QEMU's info mtree -f has it", () => {
    const m = createVirtMachine({ memory: '256M' });
    const ours = m.addressSpace.flatView.ranges.map((r) => ({ start: r.start, end: r.end - 1n, name: r.mr.name }));
    const theirs = qemuFlatMemoryMap(64, ['-m', '256M', '-bios', 'none'])!;
    let checked = 0;
    for (const [start, end, , name] of theirs) {
      const mine = REGION_NAMES[name];
      if (mine === undefined) continue;
      expect(ours.filter((r) => r.start === start && r.end === end && r.name === mine), `${name} at ${start.toString(16)}`).toHaveLength(1);
      checked++;
    }
    expect(checked).toBe(theirs.filter(([, , , n]) => n in REGION_NAMES).length);
    expect(checked).toBeGreaterThanOrEqual(Object.keys(REGION_NAMES).length);
  });

  it.skipIf(!qemuAvailable(64))("shows the guest QEMU's empty virtio-mmio slots (magic, version, device id, vendor)", () => {
    const m = createVirtMachine({});
    for (let i = 0; i < 8; i++) {
      const base = VIRT_MEMMAP.virtio.base + BigInt(i) * 0x1000n;
      expect(words(m.readMemory(base, 16)), `slot ${i}`).toEqual(qemuReadWords(64, ['-bios', 'none'], base, 4));
    }
  });

  it('reads the flash as ROM and ignores guest writes to it', () => {
    const m = createVirtMachine({});
    expect(m.describeAddress(0x20000000n)).toBe("ROM device 'virt.flash0'");
    expect(m.describeAddress(0x22000000n)).toBe("ROM device 'virt.flash1'");
    m.writeMemory(0x20000000n, new Uint8Array([1, 2, 3, 4]));
    expect(m.readMemory(0x20000000n, 4)).toEqual(new Uint8Array(4));
  });
});

// ---- image errors ------------------------------------------------------------------------------------

/** hello.elf with the physical address of its PT_LOAD program header (number 1) moved. */
function movedElf(paddr: bigint): Uint8Array {
  const b = fixture('hello.elf').slice();
  const dv = new DataView(b.buffer);
  const phoff = Number(dv.getBigUint64(0x20, true));
  const phentsize = dv.getUint16(0x36, true);
  expect(dv.getUint32(phoff + phentsize, true)).toBe(1); // PT_LOAD
  dv.setBigUint64(phoff + phentsize + 0x18, paddr, true); // Elf64_Phdr.p_paddr
  return b;
}

describe('image placement errors', () => {
  it('names the ELF segment that falls outside RAM, and the map', () => {
    expect(() => createVirtMachine({ bios: 'none', kernel: movedElf(0x90000000n), names: { kernel: 'hello.elf' } }))
      .toThrow(/hello\.elf segment 1 at 0x90000000 .*does not fit in memory: 0x90000000 is unmapped; RAM is 0x80000000-0x87ffffff \(128 MiB\)/);
    expect(() => createVirtMachine({ bios: 'none', kernel: movedElf(0x10000000n) }))
      .toThrow(/kernel segment 1 at 0x10000000 .*0x10000000 is I\/O 'serial'/);
  });

  it('rejects an ELF of the other XLEN, overlapping images, an initrd without kernel, bad sizes', () => {
    expect(() => createVirtMachine({ arch: 'riscv32', kernel: fixture('hello.elf') })).toThrow(/kernel is a 64-bit ELF but the machine is riscv32/);
    expect(() => createVirtMachine({ bios: fixture('hello.elf'), kernel: fixture('hello.elf') })).toThrow(/kernel @0x80000000 .* overlaps bios @0x80000000/);
    expect(() => createVirtMachine({ initrd: new Uint8Array(4) })).toThrow(VirtMachineError);
    expect(() => createVirtMachine({ memory: '1K' })).toThrow(/memory must be a multiple of 4 KiB between 16M and 4G, got 1K/);
    expect(() => createVirtMachine({ memory: 'lots' })).toThrow(/memory: invalid size 'lots'/);
    expect(() => createVirtMachine({ cpus: 0 })).toThrow(/cpus must be an integer/);
    expect(() => createVirtMachine({ bios: 'none', kernel: new Uint8Array(200 << 20) })).toThrow(/kernel at 0x80000000 \(0xc800000 bytes\) does not fit/);
  });

  it('takes -m as MiB when it is a plain number, as QEMU', () => {
    expect(createVirtMachine({ memory: 64 }).ramSize).toBe(64n << 20n);
    expect(createVirtMachine({ memory: '1G' }).ramSize).toBe(1n << 30n);
  });
});

// ---- interrupt wiring ---------------------------------------------------------------------------------

describe('interrupt wiring', () => {
  const u32 = (v: number): Uint8Array => new Uint8Array(new Uint32Array([v]).buffer);
  const MIP_MSIP = 1n << 3n, MIP_SEIP = 1n << 9n, MIP_MEIP = 1n << 11n;

  it('routes the UART through PLIC source 10 to MEIP (context 2h) and SEIP (context 2h+1) of each hart', () => {
    const m = createVirtMachine({ cpus: 2 });
    const plic = VIRT_MEMMAP.plic.base;
    m.writeMemory(plic + 4n * 10n, u32(1)); // priority of source 10
    m.writeMemory(plic + 0x2000n + 3n * 0x80n, u32(1 << 10)); // enable for context 3: hart 1, S mode
    m.writeMemory(VIRT_MEMMAP.uart0.base + 1n, new Uint8Array([1])); // IER: received data
    expect(m.getRegister('mip', 1) & (MIP_SEIP | MIP_MEIP)).toBe(0n);
    m.serial.feed('a');
    expect(m.getRegister('mip', 1) & (MIP_SEIP | MIP_MEIP)).toBe(MIP_SEIP);
    expect(m.getRegister('mip', 0) & (MIP_SEIP | MIP_MEIP)).toBe(0n);
    m.writeMemory(plic + 0x2000n + 0n * 0x80n, u32(1 << 10)); // context 0: hart 0, M mode
    expect(m.getRegister('mip', 0) & (MIP_SEIP | MIP_MEIP)).toBe(MIP_MEIP);
    // Claim for context 3 returns source 10, and the line drops until completion.
    expect(new DataView(m.readMemory(plic + 0x200000n + 3n * 0x1000n + 4n, 4).buffer).getUint32(0, true)).toBe(10);
    expect(m.getRegister('mip', 1) & MIP_SEIP).toBe(0n);
  });

  it('routes RTC alarms to PLIC source 11 and CLINT msip to MSIP', () => {
    const m = createVirtMachine({ cpus: 2 });
    const plic = VIRT_MEMMAP.plic.base;
    m.writeMemory(plic + 4n * 11n, u32(1));
    m.writeMemory(plic + 0x2000n, u32(1 << 11));
    const rtc = VIRT_MEMMAP.rtc.base;
    m.writeMemory(rtc + 0x10n, u32(1)); // IRQ_ENABLED
    m.writeMemory(rtc + 0x0cn, u32(0)); // ALARM_HIGH
    m.writeMemory(rtc + 0x08n, u32(1)); // ALARM_LOW: long past, fires at once
    expect(m.getRegister('mip', 0) & MIP_MEIP).toBe(MIP_MEIP);
    m.writeMemory(VIRT_MEMMAP.clint.base + 4n, u32(1)); // msip of hart 1
    expect(m.getRegister('mip', 1) & MIP_MSIP).toBe(MIP_MSIP);
    expect(m.getRegister('mip', 0) & MIP_MSIP).toBe(0n);
  });

  it('arms an Sstc deadline on the machine clock: stimecmp wakes WFI with STIP at the right time', () => {
    const prog = [
      addi(X.t0, X.zero, 1), slli(X.t0, X.t0, 63), csrrs(X.zero, 0x30a, X.t0), // menvcfg.STCE
      addi(X.t1, X.zero, 1000), csrrw(X.zero, 0x14d, X.t1), // stimecmp = mtime + 1000 ticks (100 us)
      addi(X.t2, X.zero, 0x20), csrrs(X.zero, 0x304, X.t2), // mie.STIE
      wfi(), j(0),
    ];
    const m = createVirtMachine({ bios: 'none', kernel: code(prog) });
    const r = m.run({ instructions: 6 + 8 + 4 });
    // stimecmp is written by instruction 11 (10 done: 40 ns, mtime 0); the hart wakes 100 us later.
    expect(r.virtualTimeNs).toBe(40 + 100_000 + 4 * 4);
    expect(m.getRegister('mip') & 0x20n).toBe(0x20n);
  });

  it('lets a guest echo serial input from its external-interrupt handler', () => {
    const A4 = 14, A5 = 15, S1 = 9;
    const main = (handler: number): number[] => [
      auipc(X.t0, 0), addi(X.t0, X.t0, handler), csrrw(X.zero, 0x305, X.t0), // mtvec = handler
      lui(X.t1, 0x10000), addi(X.t2, X.zero, 1), sb(X.t2, X.t1, 1), // UART IER = RDI
      lui(X.a1, 0xc000), sw(X.t2, X.a1, 40), // PLIC priority[10] = 1
      lui(X.a2, 0xc002), addi(X.a3, X.zero, 1024), sw(X.a3, X.a2, 0), // enable source 10 for context 0 (M)
      lui(X.a3, 1), addi(X.a3, X.a3, -2048), csrrs(X.zero, 0x304, X.a3), // mie.MEIE
      addi(X.a3, X.zero, 8), csrrs(X.zero, 0x300, X.a3), // mstatus.MIE
      wfi(), j(-4),
    ];
    const handlerOffset = main(0).length * 4;
    const prog = [
      ...main(handlerOffset),
      lui(A4, 0xc200), lw(X.a0, A4, 4), // claim (context 0)
      lbu(A5, X.t1, 0), sb(A5, X.t1, 0), // echo RBR → THR
      addi(S1, S1, 1), // count interrupts
      sw(X.a0, A4, 4), mret(), // complete
    ];
    const m = createVirtMachine({ bios: 'none', kernel: code(prog) });
    expect(m.run({ until: 'halt' }).reason).toBe('halt');
    m.serial.feed('ok');
    const r = m.run({ until: () => m.serial.output === 'ok' });
    expect(r.reason).toBe('until');
    expect(m.getRegister('a0')).toBe(10n); // the claimed source
    expect(m.getRegister('s1')).toBeGreaterThanOrEqual(1n);
    expect(m.getRegister('mcause')).toBe((1n << 63n) | 11n);
  });
});
