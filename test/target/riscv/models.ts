/**
 * Independent BigInt models of RISC-V integer instructions, written from the ISA manual (not from the
 * translator), for RV64 (`xlen` 64) and RV32 (`xlen` 32). Inputs and results are unsigned XLEN-bit values.
 */
export type Model2 = (a: bigint, b: bigint) => bigint;

export function models(xlen: 32 | 64): { rr: Record<string, Model2>; ri: Record<string, Model2>; sh: Record<string, [Model2, number]>; un: Record<string, (a: bigint) => bigint> } {
  const X = BigInt(xlen);
  const u = (v: bigint): bigint => BigInt.asUintN(xlen, v);
  const s = (v: bigint): bigint => BigInt.asIntN(xlen, v);
  const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);
  const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);
  const w = (v: bigint): bigint => u(s32(v)); // 32-bit result sign-extended to XLEN
  const ALL = (1n << X) - 1n;
  const MIN = 1n << (X - 1n);
  const sh = (b: bigint): bigint => b & (X - 1n);
  const bitlen = (v: bigint): number => (v === 0n ? 0 : v.toString(2).length);
  const ctz = (v: bigint, n: number): bigint => {
    if (v === 0n) return BigInt(n);
    let k = 0n;
    while (((v >> k) & 1n) === 0n) k++;
    return k;
  };
  const pop = (v: bigint): bigint => BigInt([...v.toString(2)].filter((c) => c === '1').length);
  const rotl = (a: bigint, n: bigint, width: bigint): bigint => {
    const m = (1n << width) - 1n;
    n %= width;
    return ((a << n) | (a >> ((width - n) % width))) & m;
  };
  const div = (a: bigint, b: bigint): bigint => (b === 0n ? ALL : a === MIN && b === ALL ? MIN : u(s(a) / s(b)));
  const rem = (a: bigint, b: bigint): bigint => (b === 0n ? a : a === MIN && b === ALL ? 0n : u(s(a) % s(b)));
  const rr: Record<string, Model2> = {
    add: (a, b) => u(a + b), sub: (a, b) => u(a - b), sll: (a, b) => u(a << sh(b)),
    slt: (a, b) => (s(a) < s(b) ? 1n : 0n), sltu: (a, b) => (a < b ? 1n : 0n), xor: (a, b) => a ^ b,
    srl: (a, b) => a >> sh(b), sra: (a, b) => u(s(a) >> sh(b)), or: (a, b) => a | b, and: (a, b) => a & b,
    mul: (a, b) => u(a * b),
    mulh: (a, b) => u((s(a) * s(b)) >> X),
    mulhsu: (a, b) => u((s(a) * b) >> X),
    mulhu: (a, b) => (a * b) >> X,
    div, rem,
    divu: (a, b) => (b === 0n ? ALL : a / b),
    remu: (a, b) => (b === 0n ? a : a % b),
    // Zba
    sh1add: (a, b) => u((a << 1n) + b), sh2add: (a, b) => u((a << 2n) + b), sh3add: (a, b) => u((a << 3n) + b),
    // Zbb
    andn: (a, b) => a & ~b & ALL, orn: (a, b) => (a | ~b) & ALL, xnor: (a, b) => ~(a ^ b) & ALL,
    max: (a, b) => (s(a) > s(b) ? a : b), min: (a, b) => (s(a) < s(b) ? a : b),
    maxu: (a, b) => (a > b ? a : b), minu: (a, b) => (a < b ? a : b),
    rol: (a, b) => rotl(a, sh(b), X), ror: (a, b) => rotl(a, (X - sh(b)) % X, X),
    // Zbc (the spec's pseudocode: one shifted copy of rs1 xored in per set bit of rs2)
    clmul: (a, b) => {
      let r = 0n;
      for (let i = 0n; i < X; i++) if ((b >> i) & 1n) r ^= a << i;
      return u(r);
    },
    clmulh: (a, b) => {
      let r = 0n;
      for (let i = 1n; i <= X; i++) if ((b >> i) & 1n) r ^= a >> (X - i);
      return r;
    },
    clmulr: (a, b) => {
      let r = 0n;
      for (let i = 0n; i < X; i++) if ((b >> i) & 1n) r ^= a >> (X - i - 1n);
      return r;
    },
    // Zbs
    bclr: (a, b) => a & ~(1n << sh(b)) & ALL, bset: (a, b) => a | (1n << sh(b)),
    binv: (a, b) => a ^ (1n << sh(b)), bext: (a, b) => (a >> sh(b)) & 1n,
  };
  const ri: Record<string, Model2> = {
    addi: (a, i) => u(a + i), slti: (a, i) => (s(a) < i ? 1n : 0n), sltiu: (a, i) => (a < u(i) ? 1n : 0n),
    xori: (a, i) => a ^ u(i), ori: (a, i) => a | u(i), andi: (a, i) => a & u(i),
  };
  const shm: Record<string, [Model2, number]> = {
    slli: [(a, n) => u(a << n), xlen], srli: [(a, n) => a >> n, xlen], srai: [(a, n) => u(s(a) >> n), xlen],
    rori: [(a, n) => rotl(a, (X - n) % X, X), xlen],
    bclri: [(a, n) => a & ~(1n << n) & ALL, xlen], bseti: [(a, n) => a | (1n << n), xlen],
    binvi: [(a, n) => a ^ (1n << n), xlen], bexti: [(a, n) => (a >> n) & 1n, xlen],
  };
  const un: Record<string, (a: bigint) => bigint> = {
    clz: (a) => X - BigInt(bitlen(a)), ctz: (a) => ctz(a, xlen), cpop: (a) => pop(a),
    'sext.b': (a) => u(BigInt.asIntN(8, a)), 'sext.h': (a) => u(BigInt.asIntN(16, a)), 'zext.h': (a) => a & 0xffffn,
    'orc.b': (a) => {
      let r = 0n;
      for (let k = 0n; k < X; k += 8n) if ((a >> k) & 0xffn) r |= 0xffn << k;
      return r;
    },
    rev8: (a) => {
      let r = 0n;
      for (let k = 0n; k < X; k += 8n) r = (r << 8n) | ((a >> k) & 0xffn);
      return r;
    },
  };
  if (xlen === 64) {
    Object.assign(rr, {
      addw: (a: bigint, b: bigint) => w(a + b), subw: (a: bigint, b: bigint) => w(a - b),
      sllw: (a: bigint, b: bigint) => w(a << (b & 31n)), srlw: (a: bigint, b: bigint) => w(u32(a) >> (b & 31n)),
      sraw: (a: bigint, b: bigint) => w(s32(a) >> (b & 31n)),
      mulw: (a: bigint, b: bigint) => w(a * b),
      divw: (a: bigint, b: bigint) => {
        const x = s32(a), y = s32(b);
        return y === 0n ? ALL : x === -(1n << 31n) && y === -1n ? w(x) : w(x / y);
      },
      divuw: (a: bigint, b: bigint) => (u32(b) === 0n ? ALL : w(u32(a) / u32(b))),
      remw: (a: bigint, b: bigint) => {
        const x = s32(a), y = s32(b);
        return y === 0n ? w(x) : x === -(1n << 31n) && y === -1n ? 0n : w(x % y);
      },
      remuw: (a: bigint, b: bigint) => (u32(b) === 0n ? w(u32(a)) : w(u32(a) % u32(b))),
      'add.uw': (a: bigint, b: bigint) => u(u32(a) + b),
      'sh1add.uw': (a: bigint, b: bigint) => u((u32(a) << 1n) + b),
      'sh2add.uw': (a: bigint, b: bigint) => u((u32(a) << 2n) + b),
      'sh3add.uw': (a: bigint, b: bigint) => u((u32(a) << 3n) + b),
      rolw: (a: bigint, b: bigint) => w(rotl(u32(a), b & 31n, 32n)),
      rorw: (a: bigint, b: bigint) => w(rotl(u32(a), (32n - (b & 31n)) % 32n, 32n)),
    });
    Object.assign(ri, { addiw: (a: bigint, i: bigint) => w(a + i) });
    Object.assign(shm, {
      slliw: [(a: bigint, n: bigint) => w(a << n), 32], srliw: [(a: bigint, n: bigint) => w(u32(a) >> n), 32],
      sraiw: [(a: bigint, n: bigint) => w(s32(a) >> n), 32],
      roriw: [(a: bigint, n: bigint) => w(rotl(u32(a), (32n - n) % 32n, 32n)), 32],
      'slli.uw': [(a: bigint, n: bigint) => u(u32(a) << n), 64],
    });
    Object.assign(un, {
      clzw: (a: bigint) => 32n - BigInt(bitlen(u32(a))), ctzw: (a: bigint) => ctz(u32(a), 32),
      cpopw: (a: bigint) => pop(u32(a)),
    });
  }
  return { rr, ri, sh: shm, un };
}
