/**
 * 64-bit arithmetic on int32 word pairs without BigInt, shared by the closure and generated-JS backends
 * (QEMU's hosts have these as instructions; JS has 32-bit integer ops and exact doubles up to 2^53).
 */

const TWO32 = 4294967296;

/** Unsigned high word of a 32×32-bit product, as an int32. Arguments are read as uint32 (any number below 2^32). */
export function mulhu32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const t = a0 * b0;
  const m1 = a1 * b0 + (t >>> 16);
  const m2 = a0 * b1 + (m1 & 0xffff);
  return (a1 * b1 + (m1 >>> 16) + (m2 >>> 16)) | 0;
}

/** Result of {@link divu64}: [quotient lo, quotient hi, remainder lo, remainder hi] (int32 words). */
export const DIV_OUT = new Int32Array(4);

/**
 * Unsigned 64-bit division of (ah:al) by (bh:bl), which must not be 0; result in {@link DIV_OUT}.
 * - both operands below 2^52: one double division (floor(x / y) is exact: x / y is at least 1/y away
 *   from the next integer and x + y < 2^53);
 * - a 32-bit divisor: long division 16 bits at a time (every partial dividend below 2^48);
 * - a divisor of 2^32 or more: the quotient fits in 32 bits; its double estimate is within one of the
 *   truth, and the exact remainder (products of 32-bit words) corrects it.
 */
export function divu64(al: number, ah: number, bl: number, bh: number): void {
  if (((ah | bh) >>> 20) === 0) {
    const a = (ah >>> 0) * TWO32 + (al >>> 0), b = (bh >>> 0) * TWO32 + (bl >>> 0);
    const q = Math.floor(a / b), r = a - q * b;
    DIV_OUT[0] = q; DIV_OUT[1] = Math.floor(q / TWO32);
    DIV_OUT[2] = r; DIV_OUT[3] = Math.floor(r / TWO32);
    return;
  }
  if (bh === 0) {
    const b = bl >>> 0, hu = ah >>> 0;
    const qh = Math.floor(hu / b);
    let r = hu - qh * b;
    const x1 = r * 65536 + (al >>> 16);
    const q1 = Math.floor(x1 / b);
    r = x1 - q1 * b;
    const x0 = r * 65536 + (al & 0xffff);
    const q0 = Math.floor(x0 / b);
    r = x0 - q0 * b;
    DIV_OUT[0] = q1 * 65536 + q0; DIV_OUT[1] = qh; DIV_OUT[2] = r; DIV_OUT[3] = 0;
    return;
  }
  const au = al >>> 0, ahu = ah >>> 0, bu = bl >>> 0, bhu = bh >>> 0;
  let q = Math.min(Math.floor((ahu * TWO32 + au) / (bhu * TWO32 + bu)), TWO32 - 1);
  for (;;) {
    // q × b as three words (w2:w1:w0); too big if above a.
    const w0 = Math.imul(q, bl) >>> 0;
    const s1 = (mulhu32(q, bl) >>> 0) + (Math.imul(q, bh) >>> 0);
    const w1 = s1 % TWO32;
    const w2 = (mulhu32(q, bh) >>> 0) + (s1 >= TWO32 ? 1 : 0);
    if (w2 !== 0 || w1 > ahu || (w1 === ahu && w0 > au)) { q--; continue; }
    // r = a - q × b, then one more b if it still fits.
    let rl = au - w0, rh = ahu - w1;
    if (rl < 0) { rl += TWO32; rh--; }
    if (rh > bhu || (rh === bhu && rl >= bu)) { q++; continue; }
    DIV_OUT[0] = q; DIV_OUT[1] = 0; DIV_OUT[2] = rl; DIV_OUT[3] = rh;
    return;
  }
}
