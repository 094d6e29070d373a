/**
 * The QOM type registry (after QEMU qom/object.c: TypeInfo, TypeImpl, type_register, type_initialize).
 *
 * The registry is the one table shared by every machine in a process; it is append-only, so two
 * machines can never see different types or change each other's. A type is resolved lazily (its
 * parent looked up, its class built, its properties merged) the first time it is used, so types may
 * be registered in any order.
 * @module
 */
import { QomTypeError } from '../util/errors.js';
import type { QObject } from './object.js';
import type { Prop } from './property.js';
import { didYouMean } from './suggest.js';

/** Name of the root type of every object. */
export const TYPE_OBJECT = 'object';
/** Name of the root type of every interface (abstract; interfaces have no instances). */
export const TYPE_INTERFACE = 'interface';

/** A class constructor usable as a QOM instance class (no constructor arguments). */
export type QObjectConstructor<T extends QObject = QObject> = abstract new () => T;

/**
 * Per-type class data (QEMU ObjectClass). Built once per type: a child's class starts as a
 * prototype-linked copy of its parent's, then the type's {@link TypeInfo.classInit} fills it in,
 * so class-level values set by a parent are inherited and may be overridden.
 */
export interface ObjectClass {
  /** Name of the type this class belongs to. */
  readonly typeName: string;
  /** The parent type's class, or null for `object` and `interface`. */
  readonly parentClass: ObjectClass | null;
  /** Free-form class data (e.g. a description, `userCreatable`). */
  [key: string]: unknown;
}

/** Description of a QOM type, as given to {@link registerType} (QEMU TypeInfo). */
export interface TypeInfo<T extends QObject = QObject> {
  /** Type name, unique in the process, e.g. `'ns16550a'`. */
  readonly name: string;
  /** Parent type name; defaults to `'object'`. Interfaces use `'interface'` or another interface. */
  readonly parent?: string;
  /** Abstract types cannot be instantiated. */
  readonly abstract?: boolean;
  /** One-line description shown in help output. */
  readonly description?: string;
  /**
   * The TS class instances are constructed from; it must extend the parent type's class.
   * Omitted: the parent's class is used.
   */
  readonly instance?: QObjectConstructor<T>;
  /** Fills the type's class data, once, when the type is first used. */
  readonly classInit?: (klass: ObjectClass) => void;
  /** Runs for every new instance, parent types first, after property defaults are applied. */
  readonly instanceInit?: (obj: T) => void;
  /** Device realize, run after the class's `onRealize`, parent types first. */
  readonly realize?: (obj: T) => void;
  /** Device unrealize, run before the class's `onUnrealize`, child types first. */
  readonly unrealize?: (obj: T) => void;
  /** Device reset, run after the class's `reset`, parent types first. */
  readonly reset?: (obj: T) => void;
  /** Runs when the object is finalized, child types first, before the class's `onFinalize`. */
  readonly finalize?: (obj: T) => void;
  /** Names of the interface types this type implements. */
  readonly interfaces?: readonly string[];
  /**
   * Properties added by this type (inherited by subtypes). Each property's value is kept in the
   * instance field of the same name, so a class reads `this.regShift` directly.
   */
  readonly properties?: Readonly<Record<string, Prop<any>>>;
}

/**
 * The properties of a class-based type: keys are public (non-method) fields of the instance, each
 * with a descriptor of the field's type.
 */
export type PropertiesOf<I> = {
  readonly [K in keyof I & string as I[K] extends (...args: never[]) => unknown ? never : K]?: Prop<I[K]>;
};

/** {@link TypeInfo} for a class-based type (see {@link defineType}). */
export interface ClassTypeInfo<C extends QObjectConstructor>
  extends Omit<TypeInfo<InstanceType<C>>, 'instance' | 'properties'> {
  readonly instance: C;
  readonly properties?: PropertiesOf<InstanceType<C>>;
}

/** A property together with the type that declared it. */
export interface PropertyEntry {
  readonly name: string;
  readonly prop: Prop<unknown>;
  readonly declaredBy: string;
}

/** A registered type, resolved on first use (QEMU TypeImpl). Internal to QOM. */
export class TypeImpl {
  parent: TypeImpl | null = null;
  /** This type and its ancestors, root first. Valid once resolved. */
  ancestors: TypeImpl[] = [];
  /** Every interface name this type implements, including interfaces' parents. */
  interfaces = new Set<string>();
  /** Every property, inherited ones first. */
  props = new Map<string, PropertyEntry>();
  instanceClass: QObjectConstructor | null = null;
  klass!: ObjectClass;
  isInterface = false;
  private state: 'new' | 'resolving' | 'resolved' = 'new';

  constructor(readonly info: TypeInfo<any>) {}

  get name(): string {
    return this.info.name;
  }
  get abstract(): boolean {
    return this.info.abstract === true || this.isInterface;
  }

  /** Resolves parent, class, interfaces and properties (QEMU type_initialize). */
  resolve(): this {
    if (this.state === 'resolved') return this;
    if (this.state === 'resolving') throw new QomTypeError(`type '${this.name}' is its own ancestor`);
    this.state = 'resolving';
    try {
      this.doResolve();
    } catch (e) {
      this.state = 'new';
      throw e;
    }
    this.state = 'resolved';
    return this;
  }

  private doResolve(): void {
    const info = this.info;
    if (this.name === TYPE_OBJECT || this.name === TYPE_INTERFACE) {
      this.parent = null;
    } else {
      const parentName = info.parent ?? TYPE_OBJECT;
      const p = registry.get(parentName);
      if (!p) {
        throw new QomTypeError(`type '${this.name}' has unknown parent type '${parentName}'${didYouMean(parentName, registry.keys())}`);
      }
      this.parent = p.resolve();
    }
    const parent = this.parent;
    this.ancestors = parent ? [...parent.ancestors, this] : [this];
    this.isInterface = this.name === TYPE_INTERFACE || (parent?.isInterface ?? false);

    // Instance class: the type's own, or inherited; it must extend the parent's.
    if (this.isInterface) {
      if (info.instance) throw new QomTypeError(`interface type '${this.name}' cannot have an instance class`);
      if (info.properties && Object.keys(info.properties).length > 0) {
        throw new QomTypeError(`interface type '${this.name}' cannot declare properties`);
      }
    } else {
      const cls = info.instance ?? parent?.instanceClass ?? null;
      if (!cls) throw new QomTypeError(`type '${this.name}' has no instance class`);
      const pcls = parent?.instanceClass;
      if (pcls && cls !== pcls && !(cls.prototype instanceof pcls)) {
        throw new QomTypeError(`type '${this.name}': class ${cls.name} does not extend ${pcls.name}, the class of parent type '${parent.name}'`);
      }
      this.instanceClass = cls;
    }

    // Interfaces: inherited ones plus this type's, each with its interface ancestors.
    this.interfaces = new Set(parent?.interfaces ?? []);
    for (const iname of info.interfaces ?? []) {
      const it = registry.get(iname);
      if (!it) throw new QomTypeError(`type '${this.name}' implements unknown interface '${iname}'${didYouMean(iname, registry.keys())}`);
      it.resolve();
      if (!it.isInterface) throw new QomTypeError(`type '${this.name}': '${iname}' is not an interface type`);
      for (const a of it.ancestors) if (a.name !== TYPE_INTERFACE) this.interfaces.add(a.name);
    }

    // Properties: inherited first; names are fields, so they must not shadow class members.
    this.props = new Map(parent?.props ?? []);
    for (const [name, prop] of Object.entries(info.properties ?? {})) {
      if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) {
        throw new QomTypeError(`type '${this.name}': property name '${name}' must be an identifier (camelCase; 'reg-shift' is accepted as an alias of 'regShift')`);
      }
      const prev = this.props.get(name);
      if (prev) throw new QomTypeError(`type '${this.name}': property '${name}' is already declared by type '${prev.declaredBy}'`);
      if (this.instanceClass && name in this.instanceClass.prototype) {
        throw new QomTypeError(`type '${this.name}': property '${name}' collides with a member of class ${this.instanceClass.name}`);
      }
      this.props.set(name, { name, prop, declaredBy: this.name });
    }

    // Class data: prototype-linked to the parent's so class values are inherited.
    const klass = Object.create(parent?.klass ?? null) as ObjectClass;
    Object.defineProperty(klass, 'typeName', { value: this.name, enumerable: true });
    Object.defineProperty(klass, 'parentClass', { value: parent?.klass ?? null, enumerable: true });
    this.klass = klass;
    info.classInit?.(klass);
  }

  /** True if this type is `other` or derives from it, or implements interface `other`. */
  isA(other: TypeImpl): boolean {
    this.resolve();
    return this.ancestors.includes(other) || this.interfaces.has(other.name);
  }
}

/** The shared, append-only type table. */
const registry = new Map<string, TypeImpl>();
/** Class → the first type registered with that class as `instance`. */
const classTypes = new WeakMap<object, TypeImpl>();

/**
 * Registers a type (QEMU type_register_static). Re-registering a name is an error.
 * The type is resolved (parent checked) lazily, at its first use.
 * @returns the type name, for use as a `TYPE_…` constant.
 */
export function registerType<T extends QObject>(info: TypeInfo<T>): string {
  const name = info.name;
  if (typeof name !== 'string' || name === '' || /[\s/,]/.test(name)) {
    throw new QomTypeError(`invalid type name '${String(name)}': must be non-empty, without spaces, '/' or ','`);
  }
  if (registry.has(name)) throw new QomTypeError(`type '${name}' is already registered`);
  const impl = new TypeImpl(info);
  registry.set(name, impl);
  if (info.instance && !classTypes.has(info.instance)) classTypes.set(info.instance, impl);
  return name;
}

/**
 * Registers a class-based type: `defineType({ name: 'ns16550a', parent: TYPE_SYS_BUS_DEVICE,
 * instance: Ns16550a, properties: { regShift: prop.u8(0) } })`. Property keys must be public fields
 * of the class, with matching value types.
 * @returns the type name.
 */
export function defineType<C extends QObjectConstructor>(info: ClassTypeInfo<C>): string {
  return registerType(info as unknown as TypeInfo<InstanceType<C>>);
}

/** The type with that name, resolved; throws {@link QomTypeError} if unknown. Internal. */
export function getType(name: string): TypeImpl {
  const t = registry.get(name);
  if (!t) throw new QomTypeError(`unknown type '${name}'${didYouMean(name, registry.keys())}`);
  return t.resolve();
}

/** The type a class was registered as, resolved; throws if the class is not registered. Internal. */
export function getTypeOfClass(cls: object): TypeImpl {
  const t = classTypes.get(cls);
  if (!t) {
    const n = (cls as { name?: string }).name ?? '(anonymous)';
    throw new QomTypeError(`class ${n} is not a registered QOM type; register it with defineType({ name, parent, instance: ${n} })`);
  }
  return t.resolve();
}

/** Type name or registered class, as accepted by the casting functions. */
export type TypeRef<T extends QObject = QObject> = string | QObjectConstructor<T>;

/** Resolves a {@link TypeRef}. Internal. */
export function typeOfRef(ref: TypeRef<any>): TypeImpl {
  return typeof ref === 'string' ? getType(ref) : getTypeOfClass(ref);
}

/** True if a type with this name is registered. */
export function typeExists(name: string): boolean {
  return registry.has(name);
}

/**
 * True if `type` is `parent`, derives from it, or implements interface `parent`
 * (QEMU object_class_dynamic_cast != NULL). Unknown names throw {@link QomTypeError}.
 */
export function isSubtype(type: TypeRef<any>, parent: TypeRef<any>): boolean {
  return typeOfRef(type).isA(typeOfRef(parent));
}

/** Public summary of a registered type (for help output and tooling). */
export interface TypeSummary {
  readonly name: string;
  readonly parent: string | null;
  readonly abstract: boolean;
  readonly isInterface: boolean;
  readonly description: string;
  readonly interfaces: readonly string[];
}

/** Summary of one type; throws {@link QomTypeError} if unknown. */
export function typeSummary(name: string): TypeSummary {
  const t = getType(name);
  return {
    name: t.name,
    parent: t.parent?.name ?? null,
    abstract: t.abstract,
    isInterface: t.isInterface,
    description: t.info.description ?? '',
    interfaces: [...t.interfaces],
  };
}

/**
 * Names of registered types, sorted, optionally only those that are subtypes of (or implement)
 * `of`, and by default without abstract types (QEMU object_class_get_list).
 */
export function listTypes(of?: TypeRef<any>, includeAbstract = false): string[] {
  const base = of === undefined ? undefined : typeOfRef(of);
  const out: string[] = [];
  for (const t of registry.values()) {
    try {
      t.resolve();
    } catch {
      continue; // a broken registration is reported when it is used, not when listing
    }
    if (!includeAbstract && t.abstract) continue;
    if (base && !t.isA(base)) continue;
    out.push(t.name);
  }
  return out.sort();
}

/** The class data of a type (QEMU object_class_by_name). */
export function objectClassByName(name: string): ObjectClass {
  return getType(name).klass;
}
