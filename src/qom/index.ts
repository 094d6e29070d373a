/**
 * QOM: the QEMU Object Model in TypeScript — type registry, objects, properties, object tree.
 * @module
 */
export {
  TYPE_OBJECT, TYPE_INTERFACE, registerType, defineType, isSubtype, typeExists, typeSummary, listTypes,
  objectClassByName,
} from './type.js';
export type {
  ObjectClass, TypeInfo, ClassTypeInfo, PropertiesOf, QObjectConstructor, TypeRef, TypeSummary,
} from './type.js';
export {
  QObject, Container, TYPE_CONTAINER, createObject, objectDynamicCast, objectCheck, objectPropertyAddChild,
  resolvePath, createObjectRoot, containerGet, typeProperties, describeValue, kebabToCamel,
} from './object.js';
export type { PropertyInfo } from './object.js';
export { prop, parseIntText, parseSizeText, formatSize } from './property.js';
export type { Prop, PropKind, PropOptions, CoerceResult, ChardevRef } from './property.js';
export { parseDeviceOption, formatDeviceOption, parseQemuOpts, escapeOptValue, isWellFormedId } from './opts.js';
export type { DeviceOption } from './opts.js';
export { createMachineRoot } from './container.js';
export type { MachineRoot } from './container.js';
