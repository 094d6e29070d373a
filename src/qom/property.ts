/**
 * Typed property descriptors (after QEMU hw/core/qdev-properties.c and qom/object.c properties).
 *
 * A type declares its properties as `properties: { regShift: prop.u8(0), chardev: prop.chardev() }`;
 * each property's value lives in the instance field of the same name, so device code reads
 * `this.regShift`. Values are set with {@link QObject.setProperty} from a typed value or from a
 * string as given on a command line:
 * - integers: decimal or `0x` hex, optional sign for `i32`;
 * - `bool`: `on`/`off`, `true`/`false`, `yes`/`no`, `y`/`n` (QEMU qapi_bool_parse);
 * - `size`: bytes with an optional `K`/`M`/`G`/`T`/`P`/`E` suffix, powers of 1024, e.g. `128M`, `1.5K`,
 *   `0x1000` (parsed by util/size.ts {@link parseSize}, as QEMU qemu_strtosz: hex takes no suffix);
 * - `link`: a path in the object tree, absolute or partial;
 * - `chardev`: a chardev id (resolved by the device, with its machine's chardev registry).
 * @module
 */
import { ObjectTreeError, PropertyError } from '../util/errors.js';
import { parseSize, SizeParseError } from '../util/size.js';
import { QObject, resolvePath } from './object.js';
import { type QObjectConstructor, type TypeRef, typeOfRef } from './type.js';

/** The kinds of property. */
export type PropKind = 'u8' | 'u16' | 'u32' | 'u64' | 'i32' | 'bool' | 'string' | 'enum' | 'size' | 'link' | 'chardev';

/**
 * Result of checking a value: the converted value, or a failure. `expected` (e.g.
 * `must be a path to a 'plic' object (not found)`) replaces the default `must be <accepts>`.
 */
export type CoerceResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly expected?: string };

/** A property descriptor: its kind, default, accepted values, and conversions. */
export interface Prop<T> {
  readonly kind: PropKind;
  /** Value the field gets when the object is initialized. */
  readonly defaultValue: T;
  /** Accepted values in words, used in help and in errors (`0..255`, `one of 8n1, 7e1`). */
  readonly accepts: string;
  /** One-line description (for help output). */
  readonly description: string;
  /** For `enum`: the accepted values. */
  readonly values?: readonly string[];
  /** Converts a typed value or a string to the property's type. `owner` resolves link paths. */
  coerce(value: unknown, owner: QObject): CoerceResult<T>;
  /** Formats a value as a string that `coerce` accepts back. */
  format(value: T): string;
}

/** Options common to every property kind. */
export interface PropOptions {
  /** One-line description (for help output). */
  readonly description?: string;
}

/**
 * A reference to a character backend: its id (`'serial0'`, resolved by the device with its
 * machine's chardev registry at realize) or the backend object itself.
 */
export type ChardevRef = string | object;

const ok = <T>(value: T): CoerceResult<T> => ({ ok: true, value });
const BAD: CoerceResult<never> = { ok: false };

/** Parses a decimal or `0x` hex integer with optional sign; null if malformed. */
export function parseIntText(text: string): bigint | null {
  const m = /^\s*([+-]?)(0x[0-9a-f]+|[0-9]+)\s*$/i.exec(text);
  if (!m) return null;
  const v = BigInt((m[2] ?? '').toLowerCase());
  return m[1] === '-' ? -v : v;
}

function toBigInt(value: unknown): bigint | null {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : null;
  if (typeof value === 'string') return parseIntText(value);
  return null;
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

function intProp(kind: 'u8' | 'u16' | 'u32' | 'i32', min: number, max: number, def: number, opts?: PropOptions): Prop<number> {
  const accepts = `${min}..${kind === 'u32' ? hex(BigInt(max)) : max}`;
  const p: Prop<number> = {
    kind, defaultValue: def, accepts, description: opts?.description ?? '',
    coerce(value) {
      const v = toBigInt(value);
      return v !== null && v >= BigInt(min) && v <= BigInt(max) ? ok(Number(v)) : BAD;
    },
    format: (v) => String(v),
  };
  checkDefault(p, def);
  return p;
}

function checkDefault<T>(p: Prop<T>, def: unknown): void {
  if (def === null) return;
  // Defaults are checked without an owner; only link defaults would need one and those are null.
  const r = p.coerce(def, undefined as unknown as QObject);
  if (!r.ok) throw new PropertyError(`invalid default ${String(def)} for a ${p.kind} property: must be ${p.accepts}`);
}

const SIZE_SUFFIX = 'BKMGTPE';
const U64_MAX = (1n << 64n) - 1n;

/**
 * Parses a size as {@link parseSize} does (QEMU qemu_strtosz: `4096`, `0x1000`, `4K`, `128M`, `1.5G`),
 * returning null instead of throwing. Kept for callers of the QOM API; new code should call
 * {@link parseSize}, whose error says what is wrong.
 * @returns the byte count, or null if malformed, negative or above 2^64-1.
 */
export function parseSizeText(text: string): bigint | null {
  try {
    return parseSize(text);
  } catch (e) {
    if (e instanceof SizeParseError) return null;
    throw e;
  }
}

/** Formats a size with the largest suffix that keeps it exact: `134217728n` → `128M`. */
export function formatSize(v: bigint): string {
  if (v === 0n) return '0';
  for (let i = SIZE_SUFFIX.length - 1; i >= 1; i--) {
    const mul = 1n << (10n * BigInt(i));
    if (v % mul === 0n) return `${v / mul}${SIZE_SUFFIX[i] ?? ''}`;
  }
  return String(v);
}

const BOOL_WORDS: Readonly<Record<string, boolean>> = {
  on: true, yes: true, true: true, y: true, off: false, no: false, false: false, n: false,
};

function describeRef(type: TypeRef<any>): string {
  if (typeof type === 'string') return type;
  try {
    return typeOfRef(type).name;
  } catch {
    return type.name;
  }
}

/** Property descriptor factories: `prop.u8(0)`, `prop.size('128M')`, `prop.link(TYPE_PLIC)`, …. */
export const prop = {
  /** Unsigned 8-bit integer (QEMU DEFINE_PROP_UINT8). */
  u8: (def = 0, opts?: PropOptions): Prop<number> => intProp('u8', 0, 0xff, def, opts),
  /** Unsigned 16-bit integer. */
  u16: (def = 0, opts?: PropOptions): Prop<number> => intProp('u16', 0, 0xffff, def, opts),
  /** Unsigned 32-bit integer. */
  u32: (def = 0, opts?: PropOptions): Prop<number> => intProp('u32', 0, 0xffffffff, def, opts),
  /** Signed 32-bit integer. */
  i32: (def = 0, opts?: PropOptions): Prop<number> => intProp('i32', -0x80000000, 0x7fffffff, def, opts),

  /** Unsigned 64-bit integer, as a bigint (numbers are accepted up to 2^53). */
  u64(def: bigint | number = 0n, opts?: PropOptions): Prop<bigint> {
    const p: Prop<bigint> = {
      kind: 'u64', defaultValue: BigInt(def), accepts: `0..${hex(U64_MAX)}`, description: opts?.description ?? '',
      coerce(value) {
        const v = toBigInt(value);
        return v !== null && v >= 0n && v <= U64_MAX ? ok(v) : BAD;
      },
      format: (v) => String(v),
    };
    checkDefault(p, def);
    return p;
  },

  /** Boolean (QEMU DEFINE_PROP_BOOL); strings `on`/`off`, `true`/`false`, `yes`/`no`. */
  bool(def = false, opts?: PropOptions): Prop<boolean> {
    return {
      kind: 'bool', defaultValue: def, accepts: 'on/off (or true/false, yes/no)', description: opts?.description ?? '',
      coerce(value) {
        if (typeof value === 'boolean') return ok(value);
        if (typeof value === 'string') {
          const b = BOOL_WORDS[value];
          if (b !== undefined) return ok(b);
        }
        return BAD;
      },
      format: (v) => (v ? 'on' : 'off'),
    };
  },

  /** String (QEMU DEFINE_PROP_STRING). Without a default the value is null until set. */
  string: ((def: string | null = null, opts?: PropOptions): Prop<string | null> => ({
    kind: 'string', defaultValue: def, accepts: 'a string', description: opts?.description ?? '',
    coerce(value) {
      if (typeof value === 'string') return ok(value);
      return value === null && def === null ? ok(null) : BAD;
    },
    format: (v) => v ?? '',
  })) as {
    (def: string, opts?: PropOptions): Prop<string>;
    (def?: null, opts?: PropOptions): Prop<string | null>;
  },

  /** One of a fixed set of strings (QAPI enum property); the default is the first value unless given. */
  enum<const V extends string>(values: readonly V[], def?: V, opts?: PropOptions): Prop<V> {
    if (values.length === 0) throw new PropertyError('an enum property needs at least one value');
    const d = def ?? (values[0] as V);
    const p: Prop<V> = {
      kind: 'enum', defaultValue: d, accepts: `one of ${values.join(', ')}`, description: opts?.description ?? '',
      values,
      coerce: (value) => (typeof value === 'string' && (values as readonly string[]).includes(value) ? ok(value as V) : BAD),
      format: (v) => v,
    };
    checkDefault(p, d);
    return p;
  },

  /**
   * A size in bytes, as a bigint (QEMU DEFINE_PROP_SIZE): accepts numbers, bigints and strings
   * like `'128M'`, `'4K'`, `'1G'`, `'0x1000'`.
   */
  size(def: bigint | number | string = 0n, opts?: PropOptions): Prop<bigint> {
    const p: Prop<bigint> = {
      kind: 'size', defaultValue: 0n,
      accepts: `a size 0..${hex(U64_MAX)} in bytes, optionally with a K, M, G, T, P or E suffix`,
      description: opts?.description ?? '',
      coerce(value) {
        if (typeof value === 'string') {
          // The one size parser (util/size.ts), whose reason goes into the property error.
          try {
            return ok(parseSize(value));
          } catch (e) {
            if (e instanceof SizeParseError) return { ok: false, expected: `must be ${p.accepts} (${e.detail})` };
            throw e;
          }
        }
        const v = toBigInt(value);
        return v !== null && v >= 0n && v <= U64_MAX ? ok(v) : BAD;
      },
      format: formatSize,
    };
    const d = p.coerce(def, undefined as unknown as QObject);
    if (!d.ok) throw new PropertyError(`invalid default ${String(def)} for a size property: ${d.expected ?? `must be ${p.accepts}`}`);
    return { ...p, defaultValue: d.value };
  },

  /**
   * A link to another object of a given type (QEMU DEFINE_PROP_LINK): set to the object, to its
   * path (absolute, or a unique partial path), or null.
   */
  link<T extends QObject = QObject>(type: string | QObjectConstructor<T>, opts?: PropOptions): Prop<T | null> {
    return {
      kind: 'link', defaultValue: null,
      get accepts() {
        return `a '${describeRef(type)}' object or its path`;
      },
      description: opts?.description ?? '',
      coerce(value, owner) {
        if (value === null) return ok(null);
        const t = typeOfRef(type);
        if (value instanceof QObject) {
          return value.isA(t.name) && !value.finalized ? ok(value as T) : { ok: false, expected: `must be a '${t.name}' object` };
        }
        if (typeof value === 'string') {
          let o: QObject | null;
          try {
            o = resolvePath(owner.root, value);
          } catch (e) {
            if (e instanceof ObjectTreeError) return { ok: false, expected: `must be a path to exactly one '${t.name}' object (ambiguous)` };
            throw e;
          }
          if (!o) return { ok: false, expected: `must be a path to a '${t.name}' object (not found from ${owner.root.toString()})` };
          return o.isA(t.name) ? ok(o as T) : { ok: false, expected: `must be a path to a '${t.name}' object (it is a ${o.typeName})` };
        }
        return BAD;
      },
      format: (v) => (v === null ? '' : (v.path ?? v.toString())),
    };
  },

  /**
   * A character backend (QEMU DEFINE_PROP_CHR): a chardev id string, the chardev object, or null.
   * The device resolves an id with its machine's chardev registry when it is realized.
   */
  chardev(opts?: PropOptions): Prop<ChardevRef | null> {
    return {
      kind: 'chardev', defaultValue: null, accepts: 'a chardev id or a chardev object', description: opts?.description ?? '',
      coerce(value) {
        if (value === null) return ok(null);
        if (typeof value === 'string') return value !== '' ? ok(value) : BAD;
        return typeof value === 'object' && !(value instanceof QObject && value.finalized) ? ok(value) : BAD;
      },
      format(v) {
        if (v === null) return '';
        if (typeof v === 'string') return v;
        const id = (v as { id?: unknown }).id;
        return typeof id === 'string' ? id : String(v);
      },
    };
  },
} as const;
