import { describe, expect, it } from 'vitest';
import {
  Container, QObject, containerGet, createMachineRoot, createObject, createObjectRoot, defineType,
  objectPropertyAddChild, prop, resolvePath,
} from '../../src/qom/index.js';
import { LifecycleError, ObjectTreeError } from '../../src/util/errors.js';

class Node extends QObject {
  peer!: QObject | null;
  tag = '';
  finalizedLog: string[] = [];
  protected override onFinalize(): void {
    // runs after the object is detached: its name is gone
    this.finalizedLog.push(`final ${this.tag} name=${String(this.name)}`);
  }
}
defineType({ name: 'o-node', instance: Node, properties: { peer: prop.link('object') } });

const node = (): Node => createObject(Node);

describe('object tree and paths', () => {
  it('builds the machine containers and canonical paths', () => {
    const m = createMachineRoot();
    expect(m.root.path).toBe('/');
    expect(m.machine.path).toBe('/machine');
    expect(m.peripheral.path).toBe('/machine/peripheral');
    expect(m.peripheralAnon.path).toBe('/machine/peripheral-anon');
    expect(m.unattached.path).toBe('/machine/unattached');
    const u = node();
    expect(m.addPeripheral(u, 'uart0')).toBe('/machine/peripheral/uart0');
    expect(u.path).toBe('/machine/peripheral/uart0');
    expect(u.name).toBe('uart0');
    expect(u.parent).toBe(m.peripheral);
    expect(u.root).toBe(m.root);
    expect(u.toString()).toBe('o-node at /machine/peripheral/uart0');
  });

  it('a given machine object becomes /machine', () => {
    const mach = node();
    const m = createMachineRoot(mach);
    expect(m.machine).toBe(mach);
    expect(mach.path).toBe('/machine');
    expect(mach.child('peripheral')?.path).toBe('/machine/peripheral');
  });

  it('numbers "[*]" children with the first free index', () => {
    const m = createMachineRoot();
    expect(m.addPeripheral(node())).toBe('/machine/peripheral-anon/device[0]');
    expect(m.addPeripheral(node())).toBe('/machine/peripheral-anon/device[1]');
    const c = node();
    expect(m.addUnattached(c)).toBe('/machine/unattached/device[0]');
    m.peripheralAnon.child('device[0]')?.unparent();
    expect(m.addPeripheral(node())).toBe('/machine/peripheral-anon/device[0]');
    expect([...m.peripheralAnon.children.keys()]).toEqual(['device[1]', 'device[0]']);
  });

  it('objects outside a rooted tree have no path', () => {
    const a = node();
    const b = node();
    objectPropertyAddChild(a, 'b', b);
    expect(a.path).toBeNull();
    expect(b.path).toBeNull();
    expect(b.toString()).toBe("o-node 'b' (not under a root)");
  });

  it('resolves absolute paths, partial paths and links', () => {
    const m = createMachineRoot();
    const a = node();
    const b = node();
    m.addPeripheral(a, 'a');
    m.addUnattached(b, 'b');
    const deep = node();
    b.addChild('inner', deep);
    expect(resolvePath(m.root, '/machine/peripheral/a')).toBe(a);
    expect(resolvePath(deep, '/machine/peripheral/a')).toBe(a); // absolute: from the tree root
    expect(resolvePath(m.root, '//machine//unattached/b/inner')).toBe(deep);
    expect(resolvePath(m.root, '/')).toBe(m.root);
    expect(resolvePath(m.root, '/machine/nope')).toBeNull();
    expect(resolvePath(m.root, 'inner')).toBe(deep);
    expect(resolvePath(m.root, 'b/inner')).toBe(deep);
    expect(resolvePath(m.root, 'a/inner')).toBeNull();
    expect(resolvePath(m.root, 'machine', 'o-node')).toBeNull(); // found, but of another type
    a.setProperty('peer', deep);
    expect(resolvePath(m.root, '/machine/peripheral/a/peer')).toBe(deep); // through a link
  });

  it('reports an ambiguous partial path', () => {
    const m = createMachineRoot();
    const x = node();
    const y = node();
    m.peripheral.addChild('x', x);
    m.unattached.addChild('x', y);
    expect(() => resolvePath(m.root, 'x')).toThrow(ObjectTreeError);
    expect(() => resolvePath(m.root, 'x')).toThrow("partial path 'x' is ambiguous under container at /: /machine/peripheral/x, /machine/unattached/x");
    expect(resolvePath(m.root, 'peripheral/x')).toBe(x);
  });

  it('rejects duplicate names, second parents, cycles and bad names', () => {
    const m = createMachineRoot();
    const a = node();
    m.addPeripheral(a, 'a');
    expect(() => m.addPeripheral(node(), 'a')).toThrow(ObjectTreeError);
    expect(() => m.addPeripheral(node(), 'a')).toThrow("container at /machine/peripheral already has a child 'a'");
    expect(() => m.unattached.addChild('again', a)).toThrow(/o-node at \/machine\/peripheral\/a as 'again' under container at \/machine\/unattached: it already has a parent/);
    const child = node();
    a.addChild('child', child);
    expect(() => child.addChild('loop', m.machine)).toThrow(ObjectTreeError);
    const lone = node();
    expect(() => lone.addChild('self', lone)).toThrow(/under its own descendant/);
    expect(() => a.addChild('x/y', node())).toThrow(/invalid child name 'x\/y'/);
    expect(() => a.addChild('', node())).toThrow(ObjectTreeError);
    expect(() => a.addChild('peer', node())).toThrow(/already has a property 'peer'/);
    expect(() => a.addChild('r', createObjectRoot())).toThrow(/cannot add root/);
  });

  it('containerGet creates missing containers', () => {
    const root = createObjectRoot();
    const c = containerGet(root, '/a/b/c');
    expect(c).toBeInstanceOf(Container);
    expect(c.path).toBe('/a/b/c');
    expect(containerGet(root, '/a/b')).toBe(c.parent);
  });

  it('two machines have separate trees', () => {
    const m1 = createMachineRoot();
    const m2 = createMachineRoot();
    m1.addPeripheral(node(), 'uart0');
    expect(resolvePath(m2.root, '/machine/peripheral/uart0')).toBeNull();
    m2.addPeripheral(node(), 'uart0'); // same name, other machine: fine
    expect(m1.root).not.toBe(m2.root);
  });
});

describe('finalize', () => {
  it('finalizes children first and detaches, then any use is a LifecycleError', () => {
    const m = createMachineRoot();
    const log: string[] = [];
    const a = node();
    const b = node();
    const c = node();
    for (const [o, t] of [[a, 'a'], [b, 'b'], [c, 'c']] as const) {
      o.finalizedLog = log;
      o.tag = t;
    }
    m.addPeripheral(a, 'a');
    a.addChild('b', b);
    a.addChild('c', c);
    a.finalize();
    expect(log).toEqual(['final c name=null', 'final b name=null', 'final a name=null']);
    expect(m.peripheral.child('a')).toBeUndefined();
    expect(a.finalized && b.finalized && c.finalized).toBe(true);
    expect(() => a.setProperty('peer', null)).toThrow(LifecycleError);
    expect(() => a.setProperty('peer', null)).toThrow("o-node at /machine/peripheral/a: setting property 'peer' after finalize");
    expect(() => a.getProperty('peer')).toThrow(LifecycleError);
    expect(() => a.addChild('x', node())).toThrow(LifecycleError);
    expect(() => m.peripheral.addChild('b', b)).toThrow(/b: adding it as child 'b' of .* after finalize/);
    expect(() => a.finalize()).toThrow(/finalize after finalize/);
    expect(a.path).toBeNull();
  });

  it('runs TypeInfo finalize hooks child type first, then onFinalize', () => {
    const order: string[] = [];
    class F extends QObject {
      protected override onFinalize(): void {
        order.push('onFinalize');
      }
    }
    defineType({ name: 'o-fin-p', instance: F, finalize: () => order.push('p') });
    defineType({ name: 'o-fin-c', parent: 'o-fin-p', instance: F, finalize: () => order.push('c') });
    createObject('o-fin-c').finalize();
    expect(order).toEqual(['c', 'p', 'onFinalize']);
  });

  it('objects made with new are initialized lazily, on first QOM use', () => {
    const n = new Node();
    expect(n.peer).toBeUndefined(); // property defaults not applied yet
    expect(n.getProperty('peer')).toBeNull();
    expect(n.peer).toBeNull();
  });
});
