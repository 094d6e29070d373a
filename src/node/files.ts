/**
 * File-based machine creation for Node (the core takes bytes; paths need `node:fs`).
 * @module
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createVirtMachine, type RiscvVirtMachine, type VirtMachineOptions } from '../hw/riscv/virt.js';
import { SoftboardError } from '../util/errors.js';
import type { BufferChardev } from '../chardev/char-buffer.js';
import type { Chardev } from '../chardev/char.js';

/** An image file could not be read. */
export class ImageFileError extends SoftboardError {
  override name = 'ImageFileError';
}

/** {@link VirtMachineOptions} with file paths instead of bytes for the images. */
export interface VirtMachineFileOptions<S extends Chardev = Chardev> extends Omit<VirtMachineOptions<S>, 'bios' | 'kernel' | 'initrd' | 'dtb' | 'names'> {
  /** Firmware file (`-bios`), or `'none'`. */
  readonly bios?: string;
  /** Kernel file (`-kernel`). */
  readonly kernel?: string;
  /** Initial RAM disk file (`-initrd`). */
  readonly initrd?: string;
  /** Device tree blob file (`-dtb`). */
  readonly dtb?: string;
}

/**
 * Reads an image file.
 * @throws ImageFileError naming the option and the path (`could not read kernel image 'x.elf': no such file`).
 */
export function readImageFile(what: string, path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new ImageFileError(`could not read ${what} image '${path}': ${why}`, { cause: e });
  }
}

/** {@link createVirtMachine} with images read from files (as `qemu-system-riscv64 -M virt -bios F -kernel K …`). */
export function createVirtMachineFromFiles<S extends Chardev = BufferChardev>(options: VirtMachineFileOptions<S> = {}): RiscvVirtMachine<S> {
  const { bios, kernel, initrd, dtb, ...rest } = options;
  const names: { bios?: string; kernel?: string; initrd?: string; dtb?: string } = {};
  const opts: { -readonly [K in keyof VirtMachineOptions<S>]: VirtMachineOptions<S>[K] } = { ...rest };
  if (bios !== undefined) {
    if (bios === 'none') opts.bios = 'none';
    else { opts.bios = readImageFile('bios', bios); names.bios = basename(bios); }
  }
  if (kernel !== undefined) { opts.kernel = readImageFile('kernel', kernel); names.kernel = basename(kernel); }
  if (initrd !== undefined) { opts.initrd = readImageFile('initrd', initrd); names.initrd = basename(initrd); }
  if (dtb !== undefined) { opts.dtb = readImageFile('dtb', dtb); names.dtb = basename(dtb); }
  opts.names = names;
  return createVirtMachine<S>(opts);
}
