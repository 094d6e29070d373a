/**
 * Stable text form of the IR, after QEMU's `-d op` output (tcg/tcg.c tcg_dump_ops):
 * ```
 *  ---- 0000000080000000
 *  add_i64 x5,x6,$0x10
 *  brcond_i64 x5,$0x0,eq,$L1
 * ```
 * One op a line with a leading space; outputs, then inputs, then constant arguments, comma-separated.
 * TB temps print as `tmpN` (N counted from the first non-global temp), globals by name, constants as
 * `$0x…` (zero-extended), labels as `$LN`, conditions by name, memops as QEMU names them
 * (`ub`, `lesw`, `leq`, `beul`, with an `al+` prefix for aligned accesses).
 */
import type { IrFunction } from './context.js';
import { COND_NAMES, MO_ALIGN, MO_BE, MO_SIGN, MO_SIZE, type Op, type Temp } from './ir.js';

const SIZE_NAMES = ['b', 'w', 'l', 'q'];

/** QEMU-style name of a memop (`ub`, `lesw`, `leq`, `al+beul`). */
export function memopName(memop: number, withEndian = true): string {
  const size = memop & MO_SIZE;
  const sign = memop & MO_SIGN ? 's' : 'u';
  const align = memop & MO_ALIGN ? 'al+' : '';
  if (size === 0) return `${align}${sign}b`;
  const end = withEndian ? (memop & MO_BE ? 'be' : 'le') : '';
  // QEMU spells the unsigned 64-bit access without the sign letter ("leq").
  const s = size === 3 && sign === 'u' ? '' : sign;
  return `${align}${end}${s}${SIZE_NAMES[size]!}`;
}

function hex(v: bigint | number): string {
  const b = typeof v === 'bigint' ? v : BigInt(v >>> 0);
  return `$0x${b.toString(16)}`;
}

/** Names temps for one function: globals by name, TB temps as tmpN, constants as $0x… */
export function tempNamer(fn: IrFunction): (t: Temp) => string {
  const nbGlobals = fn.temps.filter((t) => t.kind === 'global').length;
  return (t: Temp) => {
    switch (t.kind) {
      case 'const': return hex(t.value);
      case 'global': return t.name;
      default: return `tmp${t.id - nbGlobals}`;
    }
  };
}

/** Text of one op (without the leading space). */
export function dumpOp(op: Op, name: (t: Temp) => string): string {
  const regs = [...op.o, ...op.i].map(name);
  const label = op.label ? `$L${op.label.id}` : '';
  const c0 = op.c[0] ?? 0;
  let args: string[];
  switch (op.opc) {
    case 'insn_start': {
      const pc = (BigInt((op.c[1] ?? 0) >>> 0) << 32n) | BigInt(c0 >>> 0);
      const extra = op.c.slice(2).map((w) => (w >>> 0).toString(16).padStart(16, '0'));
      return ['----', pc.toString(16).padStart(16, '0'), ...extra].join(' ');
    }
    case 'br': case 'set_label': args = [label]; break;
    case 'brcond_i32': case 'brcond_i64': args = [...regs, COND_NAMES[c0] ?? String(c0), label]; break;
    case 'setcond_i32': case 'setcond_i64': case 'movcond_i32': case 'movcond_i64':
      args = [...regs, COND_NAMES[c0] ?? String(c0)];
      break;
    case 'ld_i32': case 'ld_i64':
      args = [...regs, 'env', hex(c0), memopName(op.c[1] ?? 0, false)];
      break;
    case 'st_i32': case 'st_i64':
      args = [...regs, 'env', hex(c0), memopName(op.c[1] ?? 0, false)];
      break;
    case 'qemu_ld_i32': case 'qemu_ld_i64': case 'qemu_st_i32': case 'qemu_st_i64':
      args = [...regs, memopName(c0), String(op.c[1] ?? 0)];
      break;
    case 'call': {
      const h = op.helper;
      args = [h?.name ?? '?', hex(h?.flags ?? 0), `$${op.o.length}`, ...regs];
      break;
    }
    default:
      args = [...regs, ...op.c.map((c) => hex(c))];
      break;
  }
  return args.length > 0 ? `${op.opc} ${args.join(',')}` : op.opc;
}

/** The whole function, one op a line, each line starting with a space as in QEMU's log. */
export function dumpIr(fn: IrFunction): string {
  const name = tempNamer(fn);
  return fn.ops.map((op) => ` ${dumpOp(op, name)}`).join('\n') + '\n';
}
