import { describe, expect, it } from 'vitest';
import {
  QObject, TYPE_OBJECT, createObject, defineType, isSubtype, listTypes, objectCheck, objectClassByName,
  objectDynamicCast, prop, registerType, typeSummary,
} from '../../src/qom/index.js';
import { Device, TYPE_DEVICE } from '../../src/hw/core/device.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../../src/hw/core/sysbus.js';
import { QomTypeError } from '../../src/util/errors.js';

// Types shared by the tests of this file (the registry is process-wide and append-only).
registerType({ name: 't-iface-a', parent: 'interface' });
registerType({ name: 't-iface-b', parent: 't-iface-a' }); // interface inheritance
registerType({ name: 't-iface-c', parent: 'interface' });

class TUart extends SysBusDevice {}
defineType({ name: 't-uart', parent: TYPE_SYS_BUS_DEVICE, instance: TUart, interfaces: ['t-iface-b'] });
class TUart2 extends TUart {}
defineType({ name: 't-uart2', parent: 't-uart', instance: TUart2 });
// a type without its own class uses its parent's
registerType({ name: 't-uart-alias', parent: 't-uart' });

class TAbstractDev extends Device {}
defineType({ name: 't-abstract-dev', parent: TYPE_DEVICE, abstract: true, instance: TAbstractDev });

describe('type registry', () => {
  it('a sys-bus-device is a device is an object', () => {
    const u = createObject('t-uart');
    expect(u).toBeInstanceOf(TUart);
    expect(u.typeName).toBe('t-uart');
    expect(u.isA(TYPE_SYS_BUS_DEVICE)).toBe(true);
    expect(u.isA(TYPE_DEVICE)).toBe(true);
    expect(u.isA(TYPE_OBJECT)).toBe(true);
    expect(isSubtype(TYPE_SYS_BUS_DEVICE, TYPE_DEVICE)).toBe(true);
    expect(isSubtype(TYPE_DEVICE, TYPE_SYS_BUS_DEVICE)).toBe(false);
    expect(isSubtype('t-uart2', 't-uart')).toBe(true);
    expect(isSubtype('t-uart', 't-uart2')).toBe(false);
    expect(isSubtype(TUart2, SysBusDevice)).toBe(true);
  });

  it('casts follow inheritance and interfaces (with their parents)', () => {
    const u2 = createObject(TUart2);
    expect(objectDynamicCast(u2, 't-uart')).toBe(u2);
    expect(objectDynamicCast(u2, TUart)).toBe(u2);
    expect(objectDynamicCast(u2, 't-iface-b')).toBe(u2); // inherited from t-uart
    expect(objectDynamicCast(u2, 't-iface-a')).toBe(u2); // parent of t-iface-b
    expect(objectDynamicCast(u2, 't-iface-c')).toBeNull();
    const plain = createObject(TYPE_OBJECT);
    expect(objectDynamicCast(plain, TYPE_DEVICE)).toBeNull();
    expect(objectDynamicCast(null, TYPE_DEVICE)).toBeNull();
    expect(() => objectCheck(plain, TYPE_DEVICE)).toThrow(QomTypeError);
    expect(() => objectCheck(plain, TYPE_DEVICE)).toThrow(/object \(not in a tree\) is not a 'device'/);
    expect(objectCheck(u2, Device)).toBe(u2);
  });

  it('a type without a class is built from its parent class but keeps its own name', () => {
    const a = createObject('t-uart-alias');
    expect(a).toBeInstanceOf(TUart);
    expect(a.typeName).toBe('t-uart-alias');
    expect(a.isA('t-uart')).toBe(true);
  });

  it('abstract types cannot be instantiated, by name, class or new', () => {
    expect(() => createObject(TYPE_DEVICE)).toThrow(QomTypeError);
    expect(() => createObject(TYPE_DEVICE)).toThrow(/cannot instantiate abstract type 'device'/);
    expect(() => createObject('t-abstract-dev')).toThrow(/abstract type 't-abstract-dev'/);
    expect(() => createObject('t-iface-a')).toThrow(/abstract/);
    class Sneaky extends TAbstractDev {}
    expect(() => new Sneaky()).toThrow(/class Sneaky is not a registered QOM type/);
  });

  it('unknown types give an error naming the type, with a suggestion for typos', () => {
    expect(() => createObject('t-uartt')).toThrow(QomTypeError);
    expect(() => createObject('t-uartt')).toThrow("unknown type 't-uartt' (did you mean 't-uart'?)");
    expect(() => createObject('zzzzzzzz-nothing')).toThrow("unknown type 'zzzzzzzz-nothing'");
    expect(() => objectDynamicCast(createObject(TYPE_OBJECT), 'no-such-type')).toThrow(/unknown type 'no-such-type'/);
  });

  it('re-registering a name is an error, and so are bad registrations', () => {
    expect(() => registerType({ name: 't-uart' })).toThrow("type 't-uart' is already registered");
    expect(() => registerType({ name: '' })).toThrow(QomTypeError);
    expect(() => registerType({ name: 'a/b' })).toThrow(/invalid type name/);
    registerType({ name: 't-orphan', parent: 't-missing-parent' });
    expect(() => createObject('t-orphan')).toThrow("type 't-orphan' has unknown parent type 't-missing-parent'");
    class NotADevice extends QObject {}
    defineType({ name: 't-bad-class', parent: TYPE_DEVICE, instance: NotADevice });
    expect(() => createObject('t-bad-class')).toThrow(/class NotADevice does not extend Device/);
    registerType({ name: 't-bad-iface', interfaces: ['t-uart'] });
    expect(() => createObject('t-bad-iface')).toThrow("type 't-bad-iface': 't-uart' is not an interface type");
  });

  it('detects a parent cycle instead of recursing forever', () => {
    registerType({ name: 't-cyc-a', parent: 't-cyc-b' });
    registerType({ name: 't-cyc-b', parent: 't-cyc-a' });
    expect(() => createObject('t-cyc-a')).toThrow(/its own ancestor/);
  });

  it('types may be registered before their parent (resolved lazily)', () => {
    registerType({ name: 't-late-child', parent: 't-late-parent' });
    registerType({ name: 't-late-parent' });
    expect(createObject('t-late-child').isA('t-late-parent')).toBe(true);
  });

  it('runs classInit once per type; class data is inherited and overridable', () => {
    let calls = 0;
    registerType({ name: 't-cls-p', classInit: (k) => { calls++; k.desc = 'parent'; k.userCreatable = true; } });
    registerType({ name: 't-cls-c', parent: 't-cls-p', classInit: (k) => { k.desc = 'child'; } });
    const c = createObject('t-cls-c');
    createObject('t-cls-c');
    createObject('t-cls-p');
    expect(calls).toBe(1);
    expect(c.objectClass.desc).toBe('child');
    expect(c.objectClass.userCreatable).toBe(true);
    expect(c.objectClass.parentClass).toBe(objectClassByName('t-cls-p'));
    expect(objectClassByName('t-cls-p').desc).toBe('parent');
    expect(c.objectClass.typeName).toBe('t-cls-c');
  });

  it('lists concrete subtypes and summarizes types', () => {
    const devs = listTypes(TYPE_SYS_BUS_DEVICE);
    expect(devs).toContain('t-uart');
    expect(devs).toContain('t-uart2');
    expect(devs).not.toContain(TYPE_SYS_BUS_DEVICE);
    expect(listTypes(TYPE_SYS_BUS_DEVICE, true)).toContain(TYPE_SYS_BUS_DEVICE);
    expect(listTypes('t-iface-a')).toEqual(['t-uart', 't-uart-alias', 't-uart2']);
    expect(typeSummary('t-uart2')).toMatchObject({ parent: 't-uart', abstract: false, isInterface: false });
    expect(typeSummary('t-uart2').interfaces).toEqual(expect.arrayContaining(['t-iface-a', 't-iface-b']));
    expect(typeSummary('t-iface-b').isInterface).toBe(true);
  });

  it('instanceInit hooks run parent first, after property defaults', () => {
    const order: string[] = [];
    class P extends QObject {
      level = -1;
      protected override onInit(): void {
        order.push(`onInit level=${this.level}`);
      }
    }
    defineType({
      name: 't-init-p', instance: P, properties: { level: prop.i32(5) },
      instanceInit: (o) => { order.push(`p level=${o.level}`); },
    });
    registerType<P>({ name: 't-init-c', parent: 't-init-p', instanceInit: () => { order.push('c'); } });
    createObject('t-init-c');
    // the field initializer (-1) runs in the constructor; the property default (5) replaces it
    expect(order).toEqual(['p level=5', 'c', 'onInit level=5']);
  });
});
