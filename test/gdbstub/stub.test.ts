/**
 * The gdb stub's packets, each against the GDB manual's "Remote Protocol" appendix, driven through an
 * in-memory transport: over a RiscvCpu running test/fixtures/riscv/hello.elf (register and memory
 * values checked against the CPU and the ELF file), and over a scripted target for the run loop.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GdbStub, type GdbStubOptions, type GdbTransport } from '../../src/gdbstub/stub.js';
import { binaryToBytes, bytesToHex, rspChecksum, rspEscape, RspReader, textToHex } from '../../src/gdbstub/packet.js';
import type { GdbResumeResult, GdbStopEvent, GdbTarget } from '../../src/gdbstub/target.js';
import { RISCV_GDB_CSR0, RISCV_GDB_PRIV } from '../../src/gdbstub/riscv.js';
import { makeRig, type Rig } from './rig.js';

/** A gdb stand-in: sends framed packets, collects what the stub sends, runs the stub's scheduled slices by hand. */
class Client {
  readonly stub: GdbStub;
  /** Raw acks the stub sent ('+'/'-'), in order. */
  readonly acks: string[] = [];
  readonly replies: string[] = [];
  readonly queue: Array<() => void> = [];
  #recv: ((b: Uint8Array) => void) | null = null;
  #close: (() => void) | null = null;

  constructor(target: GdbTarget, opts: GdbStubOptions = {}) {
    const reader = new RspReader((e) => {
      if (e.type === 'packet') this.replies.push(e.payload);
      else if (e.type === 'ack') this.acks.push('+');
      else if (e.type === 'nack') this.acks.push('-');
    });
    const transport: GdbTransport = {
      write: (b) => reader.feed(b),
      onData: (cb) => { this.#recv = cb; },
      onClose: (cb) => { this.#close = cb; },
    };
    this.stub = new GdbStub(transport, target, { schedule: (fn) => this.queue.push(fn), ...opts });
  }

  raw(s: string): void {
    this.#recv!(binaryToBytes(s));
  }

  /** Sends one packet (escaping it) and returns the replies it produced. */
  send(payload: string): string[] {
    const n = this.replies.length;
    const body = rspEscape(payload);
    this.raw(`$${body}#${rspChecksum(body).toString(16).padStart(2, '0')}`);
    return this.replies.slice(n);
  }

  /** Sends a packet that must produce exactly one reply. */
  ask(payload: string): string {
    const r = this.send(payload);
    expect(r, `reply to ${payload}`).toHaveLength(1);
    return r[0]!;
  }

  /** Runs scheduled slices until a reply arrives or `max` slices ran; returns the new replies. */
  drain(max = 1000): string[] {
    const n = this.replies.length;
    for (let i = 0; i < max && this.queue.length > 0 && this.replies.length === n; i++) this.queue.shift()!();
    return this.replies.slice(n);
  }

  close(): void {
    this.#close!();
  }
}

const hexLe = (v: bigint, bytes: number): string => {
  let s = '';
  for (let i = 0; i < bytes; i++) s += Number((v >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0');
  return s;
};
const fromHexLe = (h: string): bigint => {
  let v = 0n;
  for (let i = h.length - 2; i >= 0; i -= 2) v = (v << 8n) | BigInt(parseInt(h.slice(i, i + 2), 16));
  return v;
};

function elfBytes(rig: Rig, addr: bigint, len: number): string {
  for (const s of rig.image.segments) {
    if (addr >= s.paddr && addr + BigInt(len) <= s.paddr + BigInt(s.data.length)) {
      const o = Number(addr - s.paddr);
      return bytesToHex(s.data.subarray(o, o + len));
    }
  }
  throw new Error('not in the ELF');
}

function connect(rig = makeRig(), opts: GdbStubOptions = {}): { rig: Rig; c: Client } {
  const c = new Client(rig.target, opts);
  c.send('qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;vContSupported+');
  return { rig, c };
}

describe('session and acknowledgments', () => {
  it('acknowledges each packet with + and a bad checksum with -, until QStartNoAckMode', () => {
    const { c } = connect();
    expect(c.acks).toEqual(['+']);
    c.raw('$qC#00');
    expect(c.acks).toEqual(['+', '-']);
    expect(c.ask('QStartNoAckMode')).toBe('OK');
    expect(c.stub.noAckMode).toBe(true);
    c.ask('qC');
    expect(c.acks).toEqual(['+', '-', '+']);
  });

  it('retransmits the last packet on -', () => {
    const { c } = connect();
    expect(c.ask('qC')).toBe('QC1');
    c.raw('-');
    expect(c.replies.at(-1)).toBe('QC1');
    expect(c.replies.filter((r) => r === 'QC1')).toHaveLength(2);
  });

  it('answers qSupported with its features and the thread queries for one thread', () => {
    const c = new Client(makeRig().target);
    const r = c.ask('qSupported:swbreak+;hwbreak+');
    const feats = r.split(';');
    expect(feats).toContain('qXfer:features:read+');
    expect(feats).toContain('QStartNoAckMode+');
    expect(feats).toContain('swbreak+');
    expect(feats.find((f) => f.startsWith('PacketSize='))).toBe('PacketSize=4000');
    expect(c.ask('?')).toBe('T05thread:01;');
    expect(c.ask('qAttached')).toBe('1');
    expect(c.ask('qfThreadInfo')).toBe('m1');
    expect(c.ask('qsThreadInfo')).toBe('l');
    expect(c.ask('Hg0')).toBe('OK');
    expect(c.ask('Hc-1')).toBe('OK');
    expect(c.ask('T1')).toBe('OK');
    expect(c.ask('T2')).toMatch(/^E/);
    expect(c.ask('vCont?')).toBe('vCont;c;C;s;S;t');
    // Unknown packets get the empty reply.
    expect(c.ask('qTStatus')).toBe('');
    expect(c.ask('vMustReplyEmpty')).toBe('');
    expect(c.ask('!')).toBe('');
  });
});

describe('target description', () => {
  it('serves target.xml in chunks with m/l, describing RV64 x0..x31, pc, the FPU and CSRs', () => {
    const { c } = connect();
    let xml = '';
    for (let off = 0; ; off += 0x100) {
      const r = c.ask(`qXfer:features:read:target.xml:${off.toString(16)},100`);
      expect(r[0]).toMatch(/[ml]/);
      xml += r.slice(1);
      if (r[0] === 'l') break;
    }
    expect(xml).toContain('<architecture>riscv:rv64</architecture>');
    expect(xml).toContain('<feature name="org.gnu.gdb.riscv.cpu">');
    const cpuRegs = /<feature name="org.gnu.gdb.riscv.cpu">([\s\S]*?)<\/feature>/.exec(xml)![1]!.match(/<reg /g);
    expect(cpuRegs).toHaveLength(33);
    expect(xml).toMatch(/<reg name="pc" bitsize="64" type="code_ptr" regnum="32"\/>/);
    expect(xml).toMatch(/<reg name="ft0" bitsize="64" type="riscv_double" regnum="33"\/>/);
    expect(xml).toMatch(/<reg name="fcsr" bitsize="32" type="int" regnum="68"\/>/);
    expect(xml).toMatch(new RegExp(`<reg name="mstatus" bitsize="64" type="int" regnum="${RISCV_GDB_CSR0 + 0x300}"/>`));
    expect(xml).not.toContain('name="mstatush"'); // RV32 only
    expect(c.ask('qXfer:features:read:nope.xml:0,100')).toMatch(/^E/);
  });

  it('describes an RV32 hart without D with 32-bit registers and single-precision FP', () => {
    const { c } = connect(makeRig('hello-rv32.elf', 'rv32imafc_zicsr_zifencei'));
    const xml = c.ask('qXfer:features:read:target.xml:0,8000').slice(1);
    expect(xml).toContain('<architecture>riscv:rv32</architecture>');
    expect(xml).toMatch(/<reg name="pc" bitsize="32"/);
    expect(xml).toMatch(/<reg name="ft0" bitsize="32" type="ieee_single" regnum="33"\/>/);
    expect(xml).toContain('name="mstatush"');
    // g carries 33 registers of 4 bytes.
    expect(c.ask('g')).toHaveLength(33 * 8);
  });
});

describe('registers', () => {
  it('g returns x0..x31 and pc as the CPU holds them; G writes them back', () => {
    fc.assert(fc.property(fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 33, maxLength: 33 }), (vals) => {
      const { rig, c } = connect();
      for (let i = 1; i < 32; i++) rig.cpu.setX(i, vals[i]!);
      rig.cpu.pc = vals[32]! & ~1n;
      const g = c.ask('g');
      expect(g).toHaveLength(33 * 16);
      for (let i = 0; i < 32; i++) expect(fromHexLe(g.slice(16 * i, 16 * i + 16))).toBe(i === 0 ? 0n : vals[i]);
      expect(fromHexLe(g.slice(32 * 16))).toBe(vals[32]! & ~1n);
      // G with the values shifted by one register.
      const shifted = vals.map((_, i) => vals[(i + 1) % 33]!);
      expect(c.ask('G' + shifted.map((v) => hexLe(v, 8)).join(''))).toBe('OK');
      for (let i = 1; i < 32; i++) expect(rig.cpu.getRegister(`x${i}`)).toBe(shifted[i]);
      expect(rig.cpu.getRegister('x0')).toBe(0n);
      expect(rig.cpu.pc).toBe(shifted[32]);
    }), { numRuns: 10 });
  });

  it('p/P read and write one register: x, pc, f, fflags/frm/fcsr, CSRs, priv', () => {
    const { rig, c } = connect();
    rig.cpu.setRegister('a0', 0x1122334455667788n);
    expect(c.ask('pa')).toBe(hexLe(0x1122334455667788n, 8));
    expect(c.ask('P5=' + hexLe(0xdeadbeefn, 8))).toBe('OK');
    expect(rig.cpu.getRegister('t0')).toBe(0xdeadbeefn);
    expect(c.ask('P0=' + hexLe(7n, 8))).toBe('OK');
    expect(c.ask('p0')).toBe(hexLe(0n, 8)); // x0 stays zero
    expect(c.ask('p20')).toBe(hexLe(rig.cpu.pc, 8));
    expect(c.ask('P20=' + hexLe(0x80000040n, 8))).toBe('OK');
    expect(rig.cpu.pc).toBe(0x80000040n);
    // f3 (regnum 36 = 0x24)
    rig.cpu.setRegister('f3', 0x400921fb54442d18n);
    expect(c.ask('p24')).toBe(hexLe(0x400921fb54442d18n, 8));
    // fflags 66 (0x42), frm 67, fcsr 68: fcsr = frm << 5 | fflags
    expect(c.ask('P42=' + hexLe(0x13n, 4))).toBe('OK');
    expect(c.ask('P43=' + hexLe(0x2n, 4))).toBe('OK');
    expect(c.ask('p44')).toBe(hexLe((2n << 5n) | 0x13n, 4));
    expect([rig.cpu.frm, rig.cpu.fflags]).toEqual([2, 0x13]);
    // CSRs at 65 + number; readable whatever the privilege, as a debugger must.
    rig.cpu.setRegister('mscratch', 0xabcdn);
    const mscratch = (RISCV_GDB_CSR0 + 0x340).toString(16);
    expect(c.ask(`p${mscratch}`)).toBe(hexLe(0xabcdn, 8));
    expect(c.ask(`P${(RISCV_GDB_PRIV).toString(16)}=${hexLe(0n, 8)}`)).toBe('OK');
    expect(rig.cpu.hart.priv).toBe(0);
    expect(c.ask(`p${mscratch}`)).toBe(hexLe(0xabcdn, 8));
    expect(c.ask(`P${mscratch}=${hexLe(0x55n, 8)}`)).toBe('OK');
    expect(rig.cpu.hart.priv).toBe(0);
    expect(c.ask(`p${(RISCV_GDB_PRIV).toString(16)}`)).toBe(hexLe(0n, 8));
    expect(c.ask(`P${(RISCV_GDB_PRIV).toString(16)}=${hexLe(3n, 8)}`)).toBe('OK');
    expect(rig.cpu.getRegister('mscratch')).toBe(0x55n); // RiscvCpu.getRegister checks the current privilege
  });

  it('reports unknown registers with an error', () => {
    const { c } = connect();
    expect(c.ask('p2000')).toBe('E14');
    expect(c.ask('P2000=00')).toBe('E14');
    expect(c.ask('pzz')).toBe('E14');
  });
});

describe('memory', () => {
  it('m reads the loaded ELF image', () => {
    const { rig, c } = connect();
    expect(c.ask('m80000000,10')).toBe(elfBytes(rig, 0x80000000n, 16));
    // crossing from .text into .rodata, and an odd length
    expect(c.ask('m800001d8,b')).toBe(elfBytes(rig, 0x800001d8n, 4) + elfBytes(rig, 0x800001dcn, 4) + elfBytes(rig, 0x800001e0n, 3));
  });

  it('M and X write memory (X with escaped binary), and the CPU executes what was written', () => {
    const { rig, c } = connect();
    expect(c.ask('M80000300,4:deadbeef')).toBe('OK');
    expect(bytesToHex(rig.as.readBytes(0x80000300n, 4))).toBe('deadbeef');
    const bin = String.fromCharCode(0x24, 0x23, 0x7d, 0x2a, 0x00, 0xff);
    expect(c.ask(`X80000310,6:${bin}`)).toBe('OK');
    expect([...rig.as.readBytes(0x80000310n, 6)]).toEqual([0x24, 0x23, 0x7d, 0x2a, 0x00, 0xff]);
    expect(c.ask('X80000310,0:')).toBe('OK');
    expect(c.ask('M80000300,4:dead')).toBe('E22'); // length mismatch
    // Patch code after it was translated: `li a0, 42` over the first instruction, then step it.
    rig.cpu.run({ instructions: 3 });
    rig.cpu.pc = 0x80000000n;
    expect(c.ask('M80000000,4:' + hexLe(0x02a00513n, 4))).toBe('OK');
    expect(c.ask('s')).toMatch(/^T05/);
    expect(rig.cpu.getRegister('a0')).toBe(42n);
  });

  it('translates virtual addresses through the page table of the current mode (Sv39)', () => {
    const { rig, c } = connect();
    // Root page table at 0x80008000: entry 1 maps VA 0x40000000 (1 GiB page) to PA 0x80000000, RWX, A, D.
    const pte = ((0x80000000n >> 12n) << 10n) | 0xcfn;
    expect(c.ask(`M80008008,8:${hexLe(pte, 8)}`)).toBe('OK');
    rig.cpu.setRegister('satp', (8n << 60n) | (0x80008000n >> 12n));
    // S-mode needs a PMP entry (as OpenSBI sets): entry 0 = NAPOT over everything, RWX.
    rig.cpu.setRegister('pmpaddr0', (1n << 54n) - 1n);
    rig.cpu.setRegister('pmpcfg0', 0x1fn);
    // M-mode ignores satp: VA 0x40000000 is physical 0x40000000, not RAM.
    expect(c.ask(`P${RISCV_GDB_PRIV.toString(16)}=${hexLe(1n, 8)}`)).toBe('OK');
    expect(c.ask('m40000000,8')).toBe(elfBytes(rig, 0x80000000n, 8));
    expect(c.ask('m40000ffe,4')).toBe(bytesToHex(rig.as.readBytes(0x80000ffen, 4)));
    expect(c.ask('m1000,4')).toBe('E14'); // unmapped in Sv39
    expect(c.ask('M1000,1:00')).toBe('E14');
    expect(c.ask('M40000400,2:abcd')).toBe('OK');
    expect(bytesToHex(rig.as.readBytes(0x80000400n, 2))).toBe('abcd');
  });
});

describe('execution', () => {
  it('s steps one instruction and reports SIGTRAP', () => {
    const { rig, c } = connect();
    expect(c.ask('s')).toBe('T05thread:01;');
    expect(rig.cpu.pc).toBe(0x80000004n); // csrr t0, mhartid is 4 bytes
    expect(c.ask('s')).toBe('T05thread:01;');
    expect(rig.cpu.pc).toBe(0x8000006cn - 0x64n); // bnez t0 not taken: 0x80000008
    expect(c.ask('vCont;s:1')).toBe('T05thread:01;');
    expect(rig.cpu.pc).toBe(0x8000000cn);
    expect(c.ask('s80000054')).toMatch(/^T05/); // s addr: resume at addr (lui t0,0x2 is 2 bytes)
    expect(rig.cpu.pc).toBe(0x80000056n);
  });

  it('Z0 then c stops at the breakpoint with swbreak; z0 removes it; the guest then runs to its exit', () => {
    const { rig, c } = connect();
    expect(c.ask('Z0,800001c4,2')).toBe('OK'); // main
    expect(rig.cpu.breakpoints.has(0x800001c4n)).toBe(true);
    expect(c.send('c')).toEqual([]); // the reply comes when the target stops
    expect(c.drain()).toEqual(['T05thread:01;swbreak:;']);
    expect(rig.cpu.pc).toBe(0x800001c4n);
    expect(rig.cpu.getRegister('ra')).toBe(0x80000062n);
    // Continuing from the breakpoint does not stop at it again: the guest runs to the finisher.
    expect(c.ask('z0,800001c4,2')).toBe('OK');
    expect(rig.cpu.breakpoints.size).toBe(0);
    expect(c.ask('z0,800001c4,2')).toBe('E22');
    c.send('vCont;c');
    expect(c.drain()).toEqual(['W00']);
    expect(String.fromCharCode(...rig.uart)).toBe('Hello from softboard\n');
  });

  it('Z1 reports hwbreak; a breakpoint the embedder set stays when gdb removes its own', () => {
    const { rig, c } = connect();
    rig.cpu.addBreakpoint(0x8000008an);
    expect(c.ask('Z1,8000008a,2')).toBe('OK');
    c.send('c');
    expect(c.drain()).toEqual(['T05thread:01;hwbreak:;']);
    expect(rig.cpu.pc).toBe(0x8000008an);
    expect(c.ask('z1,8000008a,2')).toBe('OK');
    expect(rig.cpu.breakpoints.has(0x8000008an)).toBe(true);
  });

  it('does not announce swbreak to a gdb that did not ask for it', () => {
    const rig = makeRig();
    const c = new Client(rig.target);
    c.ask('qSupported:multiprocess+');
    c.ask('Z0,800001c4,2');
    c.send('c');
    expect(c.drain()).toEqual(['T05thread:01;']);
  });

  it('Z2 (write watchpoint) stops after the storing instruction and names the address', () => {
    const { rig, c } = connect();
    expect(c.ask('Z2,80000220,8')).toBe('OK'); // boot_a0, stored by `sd a0,0(t0)` at 0x80000010
    c.send('c');
    expect(c.drain()).toEqual(['T05thread:01;watch:80000220;']);
    expect(rig.cpu.pc).toBe(0x80000014n);
    expect(c.ask('z2,80000220,8')).toBe('OK');
    expect(rig.cpu.hooks.listenerCount('mem:write')).toBe(0);
  });

  it('Z3 (read watchpoint) stops after the load; Z4 (access) stops at a read or a write', () => {
    const { rig, c } = connect();
    expect(c.ask('Z3,80000207,1')).toBe('OK'); // "Hello…": first byte read by `lbu t3,0(t2)` at 0x8000008c
    c.send('c');
    expect(c.drain()).toEqual(['T05thread:01;rwatch:80000207;']);
    expect(rig.cpu.pc).toBe(0x80000090n);
    expect(rig.cpu.getRegister('t3')).toBe(0x48n);
    expect(c.ask('z3,80000207,1')).toBe('OK');
    expect(c.ask('Z4,80000232,2')).toBe('OK'); // inside boot_mstatus, stored at 0x8000002c
    rig.cpu.pc = 0x80000000n;
    c.send('c');
    expect(c.drain()).toEqual(['T05thread:01;awatch:80000232;']);
    expect(rig.cpu.pc).toBe(0x80000030n);
    // A step onto the watched store reports it too.
    rig.cpu.pc = 0x8000002cn;
    expect(c.ask('s')).toBe('T05thread:01;awatch:80000232;');
  });

  it('Ctrl-C stops a running guest with SIGINT at the next slice', () => {
    const { rig, c } = connect(makeRig(), { sliceInstructions: 1000 });
    rig.cpu.pc = 0x8000016cn; // `j .` forever
    c.send('c');
    expect(c.stub.running).toBe(true);
    for (let i = 0; i < 5; i++) c.queue.shift()!();
    expect(c.replies.at(-1)).not.toMatch(/^T/);
    const icount = rig.cpu.icount;
    expect(icount).toBe(5000);
    c.raw('\x03');
    expect(c.drain()).toEqual(['T02thread:01;']);
    expect(c.stub.running).toBe(false);
    expect(rig.cpu.icount).toBe(icount);
    expect(c.ask('?')).toBe('T02thread:01;');
  });

  it('D removes gdb breakpoints and watchpoints and tells the embedder; k calls onKill without a reply', () => {
    let detached = 0, killed = 0;
    const { rig, c } = connect(makeRig(), { onDetach: () => detached++, onKill: () => killed++ });
    c.ask('Z0,80000010,4');
    c.ask('Z2,80000220,8');
    expect(c.ask('D')).toBe('OK');
    expect(detached).toBe(1);
    expect(rig.cpu.breakpoints.size).toBe(0);
    expect(rig.cpu.hooks.listenerCount('mem:write')).toBe(0);
    expect(c.send('k')).toEqual([]);
    expect(killed).toBe(1);
  });

  it('closing the transport ends the session and removes breakpoints', () => {
    const { rig, c } = connect();
    c.ask('Z0,80000010,4');
    c.close();
    expect(rig.cpu.breakpoints.size).toBe(0);
    expect(c.send('qC')).toEqual([]);
  });
});

describe('monitor commands', () => {
  it('qRcmd replies with hex-encoded output, OK for none, and names unknown commands', () => {
    const { c } = connect(makeRig(), { monitor: (cmd) => (cmd === 'info' ? 'hart 0\n' : cmd === 'quiet' ? '' : undefined) });
    expect(c.ask(`qRcmd,${textToHex('info')}`)).toBe(textToHex('hart 0\n'));
    expect(c.ask(`qRcmd,${textToHex('quiet')}`)).toBe('OK');
    expect(Buffer.from(c.ask(`qRcmd,${textToHex('bogus')}`), 'hex').toString()).toContain("'bogus'");
  });
});

/** A scripted target for the run loop: each resume returns the next scripted result. */
function scripted(results: GdbResumeResult[]): GdbTarget & { slices: number[] } {
  const slices: number[] = [];
  const none = (): never => { throw new Error('not used'); };
  return {
    slices,
    features: new Map([['target.xml', '<target/>']]),
    gRegisterCount: 0,
    readRegister: () => undefined,
    writeRegister: () => false,
    readMemory: () => null,
    writeMemory: () => false,
    setPc: none,
    step: (): GdbStopEvent => ({ kind: 'signal', signal: 5 }),
    resume: (n) => { slices.push(n); return results.shift() ?? { kind: 'running' }; },
    insertBreakpoint: (type) => (type === 'sw' ? 'ok' : 'unsupported'),
    removeBreakpoint: () => 'error',
    removeAllBreakpoints: () => {},
  };
}

describe('run loop over a scripted target', () => {
  it('runs slices of sliceInstructions until the target stops, then sends one stop reply', () => {
    const t = scripted([{ kind: 'running' }, { kind: 'running' }, { kind: 'signal', signal: 11 }]);
    const c = new Client(t, { sliceInstructions: 1234 });
    c.send('c');
    expect(c.drain()).toEqual(['T0bthread:01;']);
    expect(t.slices).toEqual([1234, 1234, 1234]);
  });

  it('reports an exit as Wnn and unsupported breakpoint kinds with the empty reply', () => {
    const t = scripted([{ kind: 'exited', status: 3 }]);
    const c = new Client(t);
    expect(c.ask('Z2,1000,4')).toBe('');
    expect(c.ask('Z0,1000,4')).toBe('OK');
    expect(c.ask('z0,1000,4')).toBe('E22');
    expect(c.ask('Z9,1000,4')).toBe('E22');
    c.send('C0b');
    expect(c.drain()).toEqual(['W03']);
  });

  it('an exception from the target during continue becomes a SIGABRT stop and goes to onError', () => {
    const t = scripted([]);
    t.resume = () => { throw new Error('emulator bug'); };
    const errors: unknown[] = [];
    const c = new Client(t, { onError: (e) => errors.push(e) });
    c.send('c');
    expect(c.drain()).toEqual(['T06thread:01;']);
    expect(String(errors[0])).toContain('emulator bug');
    expect(c.stub.running).toBe(false);
  });

  it('an idle guest is polled with a delay, not spun', async () => {
    const t = scripted([{ kind: 'running', idle: true }, { kind: 'signal', signal: 5 }]);
    const c = new Client(t, { idleDelayMs: 1 });
    c.send('c');
    expect(c.drain()).toEqual([]); // the idle slice scheduled the next one on a timer, not the queue
    expect(t.slices).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(c.replies.at(-1)).toBe('T05thread:01;');
  });

  it('vCont;t stops at once; vCont actions for another thread are skipped', () => {
    const c = new Client(scripted([]));
    expect(c.ask('vCont;t')).toBe('T02thread:01;');
    expect(c.ask('vCont;s:2')).toBe('OK');
    expect(c.ask('vCont;s:2;s:1')).toBe('T05thread:01;');
  });
});
