/**
 * QEMU's `key=value,…` option syntax (util/qemu-option.c, QemuOpts) and the `-device` argument
 * (softmmu/qdev-monitor.c): `pl011,chardev=serial0,id=uart0`.
 *
 * Rules, as QEMU get_opt_name_value / get_opt_value:
 * - options are separated by `,`; inside a value `,,` stands for one `,` (names cannot hold `,`);
 * - a value may contain `=` (only the first `=` separates name and value);
 * - the first option may omit its name (`pl011` means `driver=pl011`) when it has no `=`;
 * - a bare name without `=` is a flag: `foo` means `foo=on` (QEMU's deprecated `nofoo` → `foo=off`
 *   form is not supported: it would misread names that start with "no");
 * - a trailing `,` is ignored.
 * A JSON object (`{"driver":"pl011","id":"uart0"}`) is also accepted, as QEMU's JSON `-device`.
 * @module
 */
import { OptionParseError } from '../util/errors.js';

/** A parsed `-device` argument. */
export interface DeviceOption {
  /** The QOM type name (QEMU "driver"). */
  readonly driver: string;
  /** The device id (`id=`), naming it `/machine/peripheral/<id>`. Absent when not given. */
  readonly id?: string;
  /** Every other option, as strings to parse with the property's type. */
  readonly props: Readonly<Record<string, string>>;
}

/** Reads a value from `pos` up to a single `,`, turning `,,` into `,`. Returns [value, end]. */
function readValue(text: string, pos: number): [string, number] {
  let out = '';
  let i = pos;
  for (;;) {
    const c = text.indexOf(',', i);
    if (c < 0) return [out + text.slice(i), text.length];
    if (text[c + 1] === ',') {
      out += text.slice(i, c + 1);
      i = c + 2;
    } else {
      return [out + text.slice(i, c), c];
    }
  }
}

/**
 * Splits a QemuOpts string into `[name, value]` pairs in order (duplicates kept).
 * @param impliedKey name given to a first option written without `name=` (`'driver'` for -device).
 * @throws OptionParseError on an empty option name.
 */
export function parseQemuOpts(text: string, impliedKey?: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let pos = 0;
  while (pos < text.length) {
    let j = pos;
    while (j < text.length && text[j] !== '=' && text[j] !== ',') j++;
    let name: string;
    let value: string;
    if (text[j] !== '=') {
      if (out.length === 0 && impliedKey !== undefined) {
        name = impliedKey;
        [value, pos] = readValue(text, pos);
      } else {
        name = text.slice(pos, j);
        value = 'on';
        pos = j;
      }
    } else {
      name = text.slice(pos, j);
      [value, pos] = readValue(text, j + 1);
    }
    if (name === '') {
      throw new OptionParseError(`empty option name at offset ${j} in '${text}'`);
    }
    out.push([name, value]);
    if (text[pos] === ',') pos++;
  }
  return out;
}

/** QEMU id_wellformed: a letter, then letters, digits, `-`, `.`, `_`. */
export function isWellFormedId(id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_.-]*$/.test(id);
}

function buildOption(pairs: Iterable<[string, string]>, source: string): DeviceOption {
  let driver: string | undefined;
  let id: string | undefined;
  const seen = new Set<string>();
  const props: Array<[string, string]> = [];
  for (const [k, v] of pairs) {
    if (seen.has(k)) throw new OptionParseError(`option '${k}' given twice in '${source}'`);
    seen.add(k);
    if (k === 'driver') driver = v;
    else if (k === 'id') id = v;
    else props.push([k, v]);
  }
  if (driver === undefined) throw new OptionParseError(`missing driver (device type) in '${source}'`);
  if (driver === '') throw new OptionParseError(`empty driver (device type) in '${source}'`);
  if (id !== undefined && !isWellFormedId(id)) {
    throw new OptionParseError(`invalid id '${id}' in '${source}': must start with a letter and contain only letters, digits, '-', '.', '_'`);
  }
  // fromEntries defines own properties, so a key like "__proto__" stays a plain key
  const p = Object.fromEntries(props);
  return id === undefined ? { driver, props: p } : { driver, id, props: p };
}

function fromJson(text: string): DeviceOption {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new OptionParseError(`invalid JSON device option '${text}': ${(e as Error).message}`, { cause: e });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new OptionParseError(`JSON device option must be an object, got '${text}'`);
  }
  const pairs: Array<[string, string]> = [];
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string') pairs.push([k, x]);
    else if (typeof x === 'number') pairs.push([k, String(x)]);
    else if (typeof x === 'boolean') pairs.push([k, x ? 'on' : 'off']);
    else throw new OptionParseError(`JSON device option '${k}' must be a string, number or boolean in '${text}'`);
  }
  return buildOption(pairs, text);
}

/**
 * Parses a QEMU `-device` argument:
 * `parseDeviceOption('pl011,chardev=serial0,id=uart0')` →
 * `{ driver: 'pl011', id: 'uart0', props: { chardev: 'serial0' } }`.
 * @throws OptionParseError on a missing driver, a duplicate option, a malformed id or name.
 */
export function parseDeviceOption(text: string): DeviceOption {
  if (text.trimStart().startsWith('{')) return fromJson(text);
  return buildOption(parseQemuOpts(text, 'driver'), text);
}

/** Escapes a value for QemuOpts (`,` → `,,`). */
export function escapeOptValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/**
 * Formats a {@link DeviceOption} as a `-device` argument that {@link parseDeviceOption} reads back
 * to an equal value.
 * @throws OptionParseError if a name cannot be written (empty, or containing `,` or `=`).
 */
export function formatDeviceOption(opt: DeviceOption): string {
  if (opt.driver === '') throw new OptionParseError('cannot format a device option with an empty driver');
  const drv = escapeOptValue(opt.driver);
  const eq = drv.indexOf('=');
  const comma = drv.indexOf(',');
  // The implied form only works if the text has no '=' before its first ','.
  const parts = [eq >= 0 && (comma < 0 || eq < comma) ? `driver=${drv}` : drv];
  if (opt.id !== undefined) {
    if (!isWellFormedId(opt.id)) throw new OptionParseError(`cannot format invalid id '${opt.id}'`);
    parts.push(`id=${opt.id}`);
  }
  for (const [k, v] of Object.entries(opt.props)) {
    if (k === '' || /[,=]/.test(k) || k === 'driver' || k === 'id') {
      throw new OptionParseError(`cannot format option name '${k}'`);
    }
    parts.push(`${k}=${escapeOptValue(v)}`);
  }
  return parts.join(',');
}
