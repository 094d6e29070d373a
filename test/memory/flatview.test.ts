import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AddressSpace, FlatView, MemoryRegion, MemoryRegionError, type MemoryRegionOps } from '../../src/memory/index.js';

const nullOps: MemoryRegionOps = { read: () => 0, write: () => {} };

// ---- a random tree description and an independent, naive model of QEMU's rendering ----------------

type Kind = 'container' | 'ram' | 'rom' | 'io' | 'romd' | 'alias';
interface NodeDesc {
  kind: Kind;
  size: number;
  /** Index of the parent (< own index), or -1 for "not mapped". */
  parent: number;
  offset: number;
  priority: number;
  enabled: boolean;
  readonly: boolean;
  /** alias: index of the target (> own index, so the graph is acyclic). */
  target: number;
  aliasOffset: number;
}

const kindArb = fc.constantFrom<Kind>('container', 'container', 'ram', 'rom', 'io', 'romd', 'alias', 'alias');

function nodeArb(i: number, n: number): fc.Arbitrary<NodeDesc> {
  return fc.record({
    kind: i === 0 ? fc.constant<Kind>('container') : kindArb,
    size: i === 0 ? fc.constant(0x1000) : fc.integer({ min: 0, max: 0x600 }),
    parent: i === 0 ? fc.constant(-1) : fc.integer({ min: -1, max: i - 1 }),
    offset: fc.integer({ min: 0, max: 0xc00 }),
    priority: fc.integer({ min: -1, max: 2 }),
    enabled: i === 0 ? fc.constant(true) : fc.integer({ min: 0, max: 3 }).map((x) => x !== 0),
    readonly: fc.integer({ min: 0, max: 9 }).map((x) => x === 0),
    target: fc.integer({ min: i + 1, max: Math.max(i + 1, n - 1) }),
    aliasOffset: fc.integer({ min: 0, max: 0x300 }),
  });
}

const treeArb = fc.integer({ min: 2, max: 18 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => nodeArb(i, n))));

interface Built {
  desc: NodeDesc[];
  regions: MemoryRegion[];
  /** Insertion sequence number of each mapped node (later = wins ties). */
  seq: number[];
}

function build(descIn: NodeDesc[]): Built {
  const desc = descIn.map((d) => {
    const e = { ...d };
    // An alias needs a target after it; the last node cannot be one.
    if (e.kind === 'alias' && e.target >= descIn.length) e.kind = 'container';
    return e;
  });
  // Aliases hold no subregions; everything else (containers, but also RAM and I/O) may.
  for (const e of desc) if (e.parent >= 0 && desc[e.parent]!.kind === 'alias') e.parent = -1;
  const regions: MemoryRegion[] = new Array(desc.length);
  for (let i = desc.length - 1; i >= 0; i--) {
    const d = desc[i]!;
    const name = `r${i}`;
    let mr: MemoryRegion;
    switch (d.kind) {
      case 'container': mr = MemoryRegion.container(null, name, BigInt(d.size)); break;
      case 'ram': mr = MemoryRegion.ram(null, name, BigInt(d.size)); break;
      case 'rom': mr = MemoryRegion.rom(null, name, BigInt(d.size)); break;
      case 'io': mr = MemoryRegion.io(null, name, BigInt(d.size), nullOps); break;
      case 'romd': mr = MemoryRegion.romDevice(null, name, BigInt(d.size), nullOps); break;
      case 'alias': mr = MemoryRegion.alias(null, name, regions[d.target]!, BigInt(d.aliasOffset), BigInt(d.size)); break;
    }
    if (d.readonly && d.kind !== 'rom') mr.setReadonly(true);
    if (!d.enabled) mr.setEnabled(false);
    regions[i] = mr;
  }
  const seq = desc.map(() => -1);
  let s = 0;
  for (let i = 1; i < desc.length; i++) {
    const d = desc[i]!;
    if (d.parent < 0) continue;
    regions[d.parent]!.addSubregion(BigInt(d.offset), regions[i]!, d.priority);
    seq[i] = s++;
  }
  return { desc, regions, seq };
}

interface Hit { node: number; off: bigint; ro: boolean }

/** Direct recursive search of the tree description: who answers at `a`? */
function naive(b: Built, i: number, base: bigint, a: bigint, ro: boolean): Hit | null {
  const d = b.desc[i]!;
  if (!d.enabled) return null;
  base += i === 0 ? 0n : BigInt(d.offset);
  ro ||= d.readonly || d.kind === 'rom';
  if (a < base || a >= base + BigInt(d.size)) return null;
  if (d.kind === 'alias') {
    // The target's own placement does not matter through an alias: cancel the offset naive() adds.
    const t = b.desc[d.target]!;
    return naive(b, d.target, base - BigInt(t.offset) - BigInt(d.aliasOffset), a, ro);
  }
  const kids = b.desc
    .map((c, k) => ({ c, k }))
    .filter(({ c, k }) => k > 0 && c.parent === i)
    .sort((x, y) => y.c.priority - x.c.priority || b.seq[y.k]! - b.seq[x.k]!);
  for (const { k } of kids) {
    const h = naive(b, k, base, a, ro);
    if (h) return h;
  }
  if (d.kind === 'container') return null;
  return { node: i, off: a - base, ro };
}

function checkView(b: Built, fv: FlatView, extra: bigint[]): void {
  const rs = fv.ranges;
  for (let k = 0; k < rs.length; k++) {
    const r = rs[k]!;
    expect(r.end > r.start).toBe(true);
    expect(r.mr.kind === 'alias' || r.mr.kind === 'container').toBe(false);
    if (k > 0) {
      const p = rs[k - 1]!;
      expect(p.end <= r.start).toBe(true);
      // flatview_simplify: no two neighbours that continue the same region
      const mergeable = p.end === r.start && p.mr === r.mr && p.offsetInRegion + (p.end - p.start) === r.offsetInRegion &&
        p.readonly === r.readonly && p.romd === r.romd;
      expect(mergeable).toBe(false);
    }
  }
  const addrs = new Set<bigint>(extra);
  for (const r of rs) for (const x of [r.start - 1n, r.start, r.end - 1n, r.end]) if (x >= 0n) addrs.add(x);
  for (const a of addrs) {
    const got = fv.lookup(a);
    const want = naive(b, 0, 0n, a, false);
    if (want === null) {
      expect(got, `addr 0x${a.toString(16)}`).toBeUndefined();
    } else {
      expect(got, `addr 0x${a.toString(16)}`).toBeDefined();
      expect(got!.mr.name, `addr 0x${a.toString(16)}`).toBe(`r${want.node}`);
      expect(got!.offsetInRegion + (a - got!.start), `addr 0x${a.toString(16)}`).toBe(want.off);
      expect(got!.readonly, `addr 0x${a.toString(16)}`).toBe(want.ro);
    }
  }
}

const addrsArb = fc.array(fc.integer({ min: 0, max: 0x1100 }).map(BigInt), { minLength: 40, maxLength: 40 });

describe('FlatView rendering', () => {
  it('matches a naive search of random region trees (aliases of aliases, priorities, overlaps, disabled)', () => {
    fc.assert(
      fc.property(treeArb, addrsArb, (desc, addrs) => {
        const b = build(desc);
        const as = new AddressSpace(b.regions[0]!, 'test');
        checkView(b, as.flatView, addrs);
      }),
      { numRuns: 400 },
    );
  });

  it('stays equal to the naive model after random enable/move/alias-offset changes', () => {
    const changeArb = fc.array(
      fc.record({
        node: fc.integer({ min: 1, max: 17 }),
        op: fc.constantFrom('enable', 'move', 'aliasOffset', 'readonly', 'remove'),
        value: fc.integer({ min: 0, max: 0xc00 }),
      }),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(treeArb, changeArb, addrsArb, fc.boolean(), (desc, changes, addrs, useTx) => {
        const b = build(desc);
        const as = new AddressSpace(b.regions[0]!, 'test');
        void as.flatView;
        let nextSeq = Math.max(-1, ...b.seq) + 1;
        const apply = (): void => {
          for (const c of changes) {
            if (c.node >= b.desc.length) continue;
            const d = b.desc[c.node]!, mr = b.regions[c.node]!;
            switch (c.op) {
              case 'enable': d.enabled = !d.enabled; mr.setEnabled(d.enabled); break;
              case 'move':
                if (d.parent >= 0 && d.offset !== c.value) {
                  d.offset = c.value;
                  mr.setAddress(BigInt(c.value));
                  b.seq[c.node] = nextSeq++; // QEMU re-inserts: the moved region now wins ties
                }
                break;
              case 'aliasOffset':
                if (d.kind === 'alias') { d.aliasOffset = c.value & 0x3ff; mr.setAliasOffset(BigInt(d.aliasOffset)); }
                break;
              case 'readonly':
                if (d.kind !== 'rom') { d.readonly = !d.readonly; mr.setReadonly(d.readonly); }
                break;
              case 'remove':
                if (d.parent >= 0) { b.regions[d.parent]!.removeSubregion(mr); d.parent = -1; }
                break;
            }
          }
        };
        if (useTx) as.transaction(apply);
        else apply();
        checkView(b, as.flatView, addrs);
      }),
      { numRuns: 300 },
    );
  });
});

describe('MemoryRegion tree rules', () => {
  it('equal priority: the subregion added last wins; higher priority wins regardless of order', () => {
    const root = MemoryRegion.container(null, 'root', 0x10000n);
    const a = MemoryRegion.ram(null, 'a', 0x1000n);
    const b = MemoryRegion.ram(null, 'b', 0x1000n);
    const c = MemoryRegion.ram(null, 'c', 0x2000n);
    root.addSubregion(0x0n, a);
    root.addSubregion(0x800n, b); // same priority, added later: covers a from 0x800
    const as = new AddressSpace(root, 'as');
    expect(as.translate(0x7ffn)!.mr).toBe(a);
    expect(as.translate(0x800n)!.mr).toBe(b);
    root.addSubregion(0x400n, c, -1); // lower priority, added last: only shows where nothing else is
    expect(as.translate(0x400n)!.mr).toBe(a);
    expect(as.translate(0x17ffn)!.mr).toBe(b);
    expect(as.translate(0x1800n)!.mr).toBe(c);
    expect(as.translate(0x2400n)).toBeNull();
    const d = MemoryRegion.ram(null, 'd', 0x100n);
    root.addSubregion(0x1700n, d, -1); // below b, above nothing: invisible under b
    expect(as.translate(0x1700n)!.mr).toBe(b);
    // moving `a` re-inserts it, so it now wins the tie with b (QEMU memory_region_set_address)
    a.setAddress(0x100n);
    expect(as.translate(0x900n)!.mr).toBe(a);
    expect(as.translate(0x1100n)!.mr).toBe(b);
    expect(as.translate(0x80n)).toBeNull();
    expect(as.translate(0x1900n)!.mr).toBe(c);
  });

  it('merges adjacent pieces that continue the same region', () => {
    const root = MemoryRegion.container(null, 'root', 0x100000n);
    const ram = MemoryRegion.ram(null, 'ram', 0x4000n);
    root.addSubregion(0x30000n, MemoryRegion.alias(null, 'w1', ram, 0n, 0x1000n));
    root.addSubregion(0x31000n, MemoryRegion.alias(null, 'w2', ram, 0x1000n, 0x1000n));
    root.addSubregion(0x32000n, MemoryRegion.alias(null, 'w3', ram, 0x3000n, 0x1000n)); // not contiguous in ram
    const as = new AddressSpace(root, 'as');
    expect(as.flatView.ranges.map((r) => [r.start, r.end, r.offsetInRegion])).toEqual([
      [0x30000n, 0x32000n, 0n],
      [0x32000n, 0x33000n, 0x3000n],
    ]);
  });

  it('renders alias windows, aliases of aliases, and containers that show through', () => {
    const root = MemoryRegion.container(null, 'root', 0x100000n);
    const ram = MemoryRegion.ram(null, 'ram', 0x4000n);
    const lo = MemoryRegion.alias(null, 'lo', ram, 0x1000n, 0x2000n);
    const lolo = MemoryRegion.alias(null, 'lolo', lo, 0x800n, 0x400n);
    root.addSubregion(0x10000n, lo);
    root.addSubregion(0x20000n, lolo);
    const sub = MemoryRegion.container(null, 'sub', 0x1000n);
    root.addSubregion(0x10800n, sub, 5); // an empty high-priority container hides nothing
    const as = new AddressSpace(root, 'as');
    const s1 = as.translate(0x10900n)!;
    expect(s1.mr).toBe(ram);
    expect(s1.offsetWithinRegion + (0x10900n - s1.offsetWithinAddressSpace)).toBe(0x1900n);
    const s2 = as.translate(0x20010n)!;
    expect(s2.mr).toBe(ram);
    expect(s2.offsetWithinRegion + (0x20010n - s2.offsetWithinAddressSpace)).toBe(0x1810n);
    expect(as.translate(0x20400n)).toBeNull();
    expect(as.translate(0x12000n)).toBeNull();
    // adjacent pieces of one region are merged into one range
    expect(as.flatView.ranges.filter((r) => r.start >= 0x10000n && r.end <= 0x12000n)).toHaveLength(1);
    lo.setAliasOffset(0n);
    const s3 = as.translate(0x10900n)!;
    expect(s3.offsetWithinRegion + (0x10900n - s3.offsetWithinAddressSpace)).toBe(0x900n);
    expect(as.translate(0x20010n)!.offsetWithinRegion).toBe(0x800n);
  });

  it('read-only aliases make the section read-only', () => {
    const root = MemoryRegion.container(null, 'root', 0x10000n);
    const ram = MemoryRegion.ram(null, 'ram', 0x1000n);
    const ro = MemoryRegion.alias(null, 'ro', ram, 0n, 0x1000n);
    ro.setReadonly(true);
    root.addSubregion(0n, ram);
    root.addSubregion(0x1000n, ro);
    const as = new AddressSpace(root, 'as');
    expect(as.translate(0x10n)!.readonly).toBe(false);
    expect(as.translate(0x1010n)!.readonly).toBe(true);
  });

  it('rejects mapping a region twice, removing a stranger, and cycles', () => {
    const root = MemoryRegion.container(null, 'root', 0x10000n);
    const other = MemoryRegion.container(null, 'other', 0x10000n);
    const r = MemoryRegion.ram(null, 'r', 0x1000n);
    root.addSubregion(0n, r);
    expect(() => other.addSubregion(0n, r)).toThrow(/already mapped in 'root'/);
    expect(() => other.removeSubregion(r)).toThrow(MemoryRegionError);
    expect(() => root.addSubregion(0n, root)).toThrow(/cyclic/);
    const inner = MemoryRegion.container(null, 'inner', 0x1000n);
    root.addSubregion(0x2000n, inner);
    const loop = MemoryRegion.alias(null, 'loop', root, 0n, 0x100n);
    expect(() => inner.addSubregion(0n, loop)).toThrow(/cyclic/);
    root.removeSubregion(r);
    other.addSubregion(0n, r);
    expect(r.parent).toBe(other);
  });

  it('rejects bad sizes and ops descriptors', () => {
    expect(() => MemoryRegion.ram(null, 'x', -1n)).toThrow(MemoryRegionError);
    expect(() => MemoryRegion.container(null, 'x', (1n << 64n) + 1n)).toThrow(MemoryRegionError);
    expect(MemoryRegion.container(null, 'all', (1n << 64n) - 1n).size).toBe(1n << 64n);
    expect(() => MemoryRegion.io(null, 'dev', 0x10n, { ...nullOps, impl: { min: 4, max: 2 } })).toThrow(/impl.min 4 > impl.max 2/);
    expect(() => MemoryRegion.io(null, 'dev', 0x10n, { ...nullOps, valid: { max: 3 as 4 } })).toThrow(/valid.max must be/);
  });

  it('covers the whole 64-bit space', () => {
    const root = MemoryRegion.container(null, 'root', (1n << 64n) - 1n);
    const top = MemoryRegion.ram(null, 'top', 0x1000n);
    root.addSubregion(0xffff_ffff_ffff_f000n, top);
    const as = new AddressSpace(root, 'as');
    expect(as.translate(0xffff_ffff_ffff_ffffn)!.mr).toBe(top);
    as.write(0xffff_ffff_ffff_fff8n, 0x1122334455667788n, 8);
    expect(as.read(0xffff_ffff_ffff_fff8n, 8)).toBe(0x1122334455667788n);
    expect(() => as.readBytes(0xffff_ffff_ffff_fffcn, 8)).toThrow(/unassigned|no region/);
  });
});
