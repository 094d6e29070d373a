/**
 * The per-machine object tree (QEMU's `/machine`, `/machine/peripheral`, `/machine/peripheral-anon`,
 * `/machine/unattached`; see QEMU hw/core/machine.c and softmmu/qdev-monitor.c qdev_set_id).
 * Each machine makes its own root: there is no process-wide `/`.
 * @module
 */
import { type Container, type QObject, containerGet, createObjectRoot } from './object.js';

/** The standard containers of one machine's object tree. */
export interface MachineRoot {
  /** The tree root, path `/`. */
  readonly root: Container;
  /** `/machine`: the machine object, or a plain container. */
  readonly machine: QObject;
  /** `/machine/peripheral`: user-created devices with an id (`-device …,id=uart0`). */
  readonly peripheral: QObject;
  /** `/machine/peripheral-anon`: user-created devices without an id, `device[N]`. */
  readonly peripheralAnon: QObject;
  /** `/machine/unattached`: objects the board made without giving them a place, `device[N]`. */
  readonly unattached: QObject;
  /**
   * Adds a user-created device as `/machine/peripheral/<id>`, or as
   * `/machine/peripheral-anon/device[N]` without an id (QEMU qdev_set_id).
   * @returns the device's path.
   */
  addPeripheral(obj: QObject, id?: string): string;
  /** Adds an object as `/machine/unattached/<name>` (default `device[N]`). @returns its path. */
  addUnattached(obj: QObject, name?: string): string;
}

/**
 * Creates a new object tree for one machine: `/`, `/machine` (the given machine object, or a
 * container), and under it `peripheral`, `peripheral-anon` and `unattached`.
 */
export function createMachineRoot(machine?: QObject): MachineRoot {
  const root = createObjectRoot();
  if (machine) root.addChild('machine', machine);
  const m = containerGet(root, '/machine');
  const peripheral = containerGet(root, '/machine/peripheral');
  const peripheralAnon = containerGet(root, '/machine/peripheral-anon');
  const unattached = containerGet(root, '/machine/unattached');
  const pathOf = (o: QObject): string => o.path ?? '';
  return {
    root, machine: m, peripheral, peripheralAnon, unattached,
    addPeripheral(obj, id) {
      if (id === undefined) peripheralAnon.addChild('device[*]', obj);
      else peripheral.addChild(id, obj);
      return pathOf(obj);
    },
    addUnattached(obj, name = 'device[*]') {
      unattached.addChild(name, obj);
      return pathOf(obj);
    },
  };
}
