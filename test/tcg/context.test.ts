import { describe, expect, it } from 'vitest';
import { GlobalSet, TcgContext } from '../../src/tcg/context.js';

describe('TcgContext', () => {
  it('shares constant temps and normalizes their values', () => {
    const g = new GlobalSet();
    const ctx = new TcgContext(g, 'i64');
    expect(ctx.constI64(-1)).toBe(ctx.constI64(0xffffffffffffffffn));
    expect(ctx.constI64(-1).value).toBe(0xffffffffffffffffn);
    expect(ctx.constI32(-1).value).toBe(0xffffffffn);
    expect(ctx.constI32(1)).not.toBe(ctx.constI64(1));
  });
  it('rejects ops with mismatched temp types', () => {
    const g = new GlobalSet();
    const x = g.add('i64', 0, 'x0');
    const ctx = new TcgContext(g, 'i64');
    expect(() => ctx.add(x, x, ctx.tempI32())).toThrow(/type mismatch/);
    expect(() => ctx.extract(x, x, 60, 8)).toThrow(/bad bit field/);
  });
});
