/**
 * Random toy instruction words for property tests of the execution loop and the backends. Registers:
 * r5 = the program's address and r6 = the data area's (never written: writes go to r0..r4), r7 = the
 * trap handler's. Stores may hit the program itself (self-modifying code).
 */
import fc from 'fast-check';
import { enc, Op } from './isa.js';

/** Which kinds beyond the common mix to include. */
export interface ToyInsnOptions {
  /** Stores of a valid instruction word over the program. */
  readonly rewriteProgram: boolean;
  /** `JR` to the program start (r5) or to r4. */
  readonly indirectJumps: boolean;
  /** The all-zero word (an illegal instruction) among the odd ones. */
  readonly zeroWord: boolean;
}

/** One random instruction word of a program `progLen` words long. */
export function toyInsnArb(progLen: number, o: ToyInsnOptions): fc.Arbitrary<number> {
  const reg = fc.integer({ min: 0, max: 4 });
  const anyReg = fc.integer({ min: 0, max: 7 });
  const imm = fc.integer({ min: -40, max: 40 });
  const span = progLen * 4 + 8;
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(reg, imm).map(([d, i]) => enc(Op.LI, d, 0, i)) },
    { weight: 4, arbitrary: fc.tuple(reg, anyReg, imm).map(([d, s, i]) => enc(Op.ADD, d, s, i)) },
    { weight: 2, arbitrary: fc.tuple(reg, anyReg).map(([d, s]) => enc(Op.XOR, d, s)) },
    { weight: 1, arbitrary: fc.tuple(reg, fc.integer({ min: 0, max: 63 })).map(([d, i]) => enc(Op.SHL, d, 0, i)) },
    { weight: 2, arbitrary: fc.tuple(reg, anyReg, imm).map(([d, s, i]) => enc(Op.ADDI, d, s, i)) },
    // loads from data (any alignment, may cross into the next page) or from code
    {
      weight: 5,
      arbitrary: fc.tuple(fc.constantFrom(Op.LB, Op.LW, Op.LQ, Op.LWA, Op.LHU, Op.LWBE), reg, fc.constantFrom(5, 6),
        fc.integer({ min: -8, max: 0x1100 })).map(([op, d, s, i]) => enc(op, d, s, i)),
    },
    // stores into data, or into the program itself (self-modifying code)
    {
      weight: 5,
      arbitrary: fc.tuple(fc.constantFrom(Op.SB, Op.SW, Op.SQ, Op.SH, Op.SWA), anyReg, fc.constantFrom(6, 6, 5),
        fc.integer({ min: -4, max: 0x1100 })).map(([op, d, s, i]) => enc(op, d, s, s === 5 ? ((i % span) + 0x100) % span : i)),
    },
    ...(o.rewriteProgram ? [{
      weight: 3, arbitrary: fc.tuple(fc.integer({ min: 0, max: progLen - 1 })).map(([k]) => enc(Op.SW, 3, 5, 4 * k)),
    }] : []),
    { weight: 3, arbitrary: fc.tuple(reg, fc.integer({ min: -4, max: 4 })).map(([d, i]) => enc(Op.BNZ, d, 0, i)) },
    { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }).map((i) => enc(Op.JMP, 0, 0, i)) },
    ...(o.indirectJumps ? [{
      weight: 1, arbitrary: fc.constantFrom(enc(Op.JR, 0, 5), enc(Op.JR, 0, 5), enc(Op.JR, 0, 5), enc(Op.JR, 0, 4)),
    }] : []),
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((i) => enc(Op.RAISE, 0, 0, i)) },
    { weight: 1, arbitrary: o.zeroWord ? fc.constantFrom(0, 0xff, enc(Op.FENCEI), enc(Op.HALT)) : fc.constantFrom(0xff, enc(Op.FENCEI), enc(Op.HALT)) },
    { weight: 1, arbitrary: fc.tuple(reg, fc.constantFrom(Op.MFEPC, Op.MFCAUSE, Op.MFTVAL)).map(([d, op]) => enc(op, d)) },
  );
}
