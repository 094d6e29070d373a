/**
 * CFI parallel NOR flash with the Intel/Sharp command set (QEMU 7.2 hw/block/pflash_cfi01.c): the
 * `virt` boards' flash banks.
 *
 * Contract:
 * - One ROM-device region of `numBlocks × sectorLength` bytes (sysbus region 0, created at realize). In
 *   read-array mode it is in ROMD mode: reads come straight from the storage (no callback). The first
 *   write of a command puts it in I/O mode, where reads return what the command says (status, IDs, the
 *   CFI table); returning to read-array mode (0xff, 0x00, 0xf0, clear status, a finished sequence's read
 *   array…) puts it back in ROMD mode.
 * - Commands (first cycle, the value's low byte): 0x10/0x40 word program (the next write is the data),
 *   0x20 block erase (erases the sector at once, confirmed by 0xd0), 0x50 clear status, 0x60 block
 *   (un)lock (accepted, not emulated), 0x70 read status, 0x90 read ID (manufacturer `id0`, device `id1`),
 *   0x98 CFI query, 0xe8 buffered write (count − 1, then the data words, then 0xd0), 0xff read array.
 *   Status bit 7 (ready) is always set; 0x10/0x20 report program/erase errors on a read-only flash.
 * - `width` is the bank width in bytes, `deviceWidth` the width of each chip (the bank is
 *   `width / deviceWidth` chips side by side): status, ID and CFI answers are replicated per chip, and
 *   CFI query offsets are in units of the bank width, as on real banks.
 * - Buffered writes go to the storage as they arrive, as QEMU's (not at the confirm).
 * - No IRQ, no clock, no timing: every operation completes at once. Unknown sequences are logged as
 *   unimplemented (`-d unimp`) and reset the flash to read-array mode.
 * - Contents: {@link PFlashCfi01.storage} (zeros at creation, like QEMU without a drive; fill it, e.g.
 *   with a firmware image, before the guest runs). They survive resets.
 * @module
 */
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../core/sysbus.js';
import { defineType, prop } from '../../qom/index.js';
import { MemoryRegion } from '../../memory/index.js';
import { Logger } from '../../util/log.js';
import { LifecycleError, PropertyError } from '../../util/errors.js';
import type { VmStateDescription } from '../../migration/vmstate.js';

/** QOM type name (QEMU TYPE_PFLASH_CFI01). */
export const TYPE_PFLASH_CFI01 = 'cfi.pflash01';

/** The flash's read-array state: QEMU uses 0x00 for it (not a CFI command). */
const CMD_READ_ARRAY = 0x00;
/** Status register bits. */
const STATUS_READY = 0x80, STATUS_ERASE_ERROR = 0x20, STATUS_PROGRAM_ERROR = 0x10;
/** Size of the CFI query table (QEMU cfi_table[0x52]). */
const CFI_TABLE_SIZE = 0x52;

/** What the flash needs from its machine (only a logger). */
export interface PFlashCfi01MachineContext {
  /** Where unimplemented command sequences are reported (default: discarded). */
  readonly log?: Logger;
}

/** ctz32 of a positive value that is a power of two (QEMU ctz32). */
const ctz = (v: number): number => 31 - Math.clz32(v & -v);
/** QEMU deposit32(value, pos, len, field). */
function deposit32(value: number, pos: number, len: number, field: number): number {
  const mask = (len >= 32 ? 0xffff_ffff : ((1 << len) - 1)) << pos;
  return ((value & ~mask) | ((field << pos) & mask)) >>> 0;
}

/** The low `bits` bits of `v` (QEMU extract32(v, 0, bits)). */
const extract32 = (v: number, bits: number): number => (bits >= 32 ? v >>> 0 : v & ((1 << bits) - 1));

/** Intel/Sharp CFI flash bank; see the module comment. */
export class PFlashCfi01 extends SysBusDevice {
  /** Snapshot state (QEMU vmstate_pflash); the contents travel with the machine's RAM blocks. */
  static readonly vmstate: VmStateDescription<PFlashCfi01> = {
    name: 'pflash_cfi01', version: 1,
    fields: [
      { name: 'wcycle', kind: 'u8' },
      { name: 'cmd', kind: 'u8' },
      { name: 'status', kind: 'u8' },
      { name: 'counter', kind: 'u64', get: (s) => BigInt(s.counter), set: (s, v) => { s.counter = Number(BigInt.asUintN(32, v as bigint)); } },
    ],
    // The region's mode is not migrated by QEMU; here it follows the command state.
    postLoad: (s) => s.#region?.setRomdMode(s.cmd === CMD_READ_ARRAY && s.wcycle === 0),
  };

  /** Number of erase blocks (QOM property `num-blocks`). */
  declare readonly numBlocks: number;
  /** Bytes per erase block (QOM property `sector-length`). */
  declare readonly sectorLength: bigint;
  /** Bank width in bytes: 1, 2 or 4 (QOM property `width`). */
  declare readonly width: number;
  /** Width of each chip in bytes; 0 = unspecified, QEMU's legacy behaviour (QOM property `device-width`). */
  declare readonly deviceWidth: number;
  /** Maximum width of each chip; 0 = `deviceWidth` (QOM property `max-device-width`). */
  declare readonly maxDeviceWidth: number;
  /** Data in big-endian byte order (QOM property `big-endian`). */
  declare readonly bigEndian: boolean;
  /** Manufacturer and device IDs (QOM properties `id0`..`id3`). */
  declare readonly id0: number;
  declare readonly id1: number;
  declare readonly id2: number;
  declare readonly id3: number;
  /** Name of the flash region (QEMU's QOM property `name`; required). */
  declare readonly regionName: string;
  /** Describe each chip with the bank's sector size, as QEMU < 3.1 did (QOM property `old-multiple-chip-handling`). */
  declare readonly oldMultipleChipHandling: boolean;
  /** Refuse program and erase (the status register reports errors), as a read-only drive in QEMU. */
  declare readonly readOnly: boolean;

  #region: MemoryRegion | null = null;
  #log = new Logger();
  #maxDeviceWidth = 0;
  #sectorLen = 0;
  #writeblockSize = 0;
  readonly #cfi = new Uint8Array(CFI_TABLE_SIZE);

  /** Write cycle of the current command; 0 = no command in progress. */
  private wcycle = 0;
  /** The current command (0x00 = read array). */
  private cmd = CMD_READ_ARRAY;
  private status = STATUS_READY;
  /** Remaining words of a buffered write. */
  private counter = 0;

  /** Gives the device its machine's logger. */
  setMachineContext(ctx: PFlashCfi01MachineContext): void {
    this.#log = ctx.log ?? new Logger();
  }

  /** The flash region (sysbus region 0); exists once the device is realized. */
  get region(): MemoryRegion {
    if (!this.#region) throw new LifecycleError(`${this.toString()}: the flash region exists once the device is realized`);
    return this.#region;
  }

  /** The flash contents (the region's RAM backing): read or fill it directly, e.g. with a firmware image. */
  get storage(): Uint8Array {
    return this.region.ram!.bytes;
  }

  /** The CFI query table of one chip (QEMU cfi_table), for inspection. */
  get cfiTable(): Uint8Array {
    return this.#cfi.slice();
  }

  protected override onRealize(): void {
    const t = TYPE_PFLASH_CFI01;
    if (this.sectorLength === 0n) throw new PropertyError(`${t}: attribute "sector-length" not specified or zero`, t, 'sectorLength');
    if (this.numBlocks === 0) throw new PropertyError(`${t}: attribute "num-blocks" not specified or zero`, t, 'numBlocks');
    if (this.regionName === '') throw new PropertyError(`${t}: attribute "regionName" (QEMU "name") not specified`, t, 'regionName');
    if (this.width !== 1 && this.width !== 2 && this.width !== 4) {
      throw new PropertyError(`${t} '${this.regionName}': width must be 1, 2 or 4, got ${this.width}`, t, 'width');
    }
    for (const [p, v] of [['deviceWidth', this.deviceWidth], ['maxDeviceWidth', this.maxDeviceWidth]] as const) {
      if (v !== 0 && v !== 1 && v !== 2 && v !== 4) throw new PropertyError(`${t} '${this.regionName}': ${p} must be 0, 1, 2 or 4, got ${v}`, t, p);
    }
    if (this.deviceWidth > this.width) {
      throw new PropertyError(`${t} '${this.regionName}': deviceWidth ${this.deviceWidth} exceeds the bank width ${this.width}`, t, 'deviceWidth');
    }
    const total = this.sectorLength * BigInt(this.numBlocks);
    if (total > 1n << 32n) throw new PropertyError(`${t} '${this.regionName}': ${total} bytes is more than 4 GiB`, t, 'numBlocks');
    this.#sectorLen = Number(this.sectorLength);
    if (this.#region && this.#region.size !== total) {
      throw new LifecycleError(`${this.toString()}: the flash was realized with 0x${this.#region.size.toString(16)} bytes; it cannot be resized`);
    }
    if (!this.#region) {
      this.#region = MemoryRegion.romDevice(this, this.regionName, total, {
        // QEMU's memory core keeps the low `size` bytes of a read (memory_region_read_accessor)
        read: (addr, size) => (size >= 4 ? this.read(addr, size) >>> 0 : this.read(addr, size) & ((1 << (8 * size)) - 1)),
        write: (addr, value, size) => this.write(addr, Number(BigInt.asUintN(32, BigInt(value))), size),
        endianness: 'native',
      });
      this.initMmio(this.#region);
    }
    // Chips are used at their maximum width unless told otherwise (QEMU pflash_cfi01_realize).
    this.#maxDeviceWidth = this.maxDeviceWidth || this.deviceWidth;
    this.fillCfiTable();
    this.reset();
  }

  /** QEMU pflash_cfi01_system_reset: read-array mode, status ready; the contents stay. */
  protected override reset(): void {
    this.cmd = CMD_READ_ARRAY;
    this.wcycle = 0;
    this.status = STATUS_READY;
    this.#region?.setRomdMode(true);
  }

  /** QEMU pflash_cfi01_fill_cfi_table. */
  private fillCfiTable(): void {
    const c = this.#cfi;
    c.fill(0);
    const numDevices = this.deviceWidth ? this.width / this.deviceWidth : 1;
    let blocksPerDevice: number, sectorLenPerDevice: number;
    if (this.oldMultipleChipHandling) {
      blocksPerDevice = Math.floor(this.numBlocks / numDevices);
      sectorLenPerDevice = this.#sectorLen;
    } else {
      blocksPerDevice = this.numBlocks;
      sectorLenPerDevice = Math.floor(this.#sectorLen / numDevices);
    }
    const deviceLen = sectorLenPerDevice * blocksPerDevice;
    c.set([0x51, 0x52, 0x59], 0x10); // "QRY"
    c[0x13] = 0x01; // command set: Intel
    c[0x15] = 0x31; // primary extended table at 0x31
    c[0x1b] = 0x45; c[0x1c] = 0x55; // Vcc min/max
    c[0x1f] = 0x07; c[0x20] = 0x07; c[0x21] = 0x0a; // typical timeouts
    c[0x23] = 0x04; c[0x24] = 0x04; c[0x25] = 0x04; // max timeouts
    // device size as log2: ctz32 as QEMU (correct for the power-of-two sizes boards use)
    c[0x27] = deviceLen > 0xffff_ffff ? 32 : ctz(deviceLen);
    c[0x28] = 0x02; // x8/x16 interface
    c[0x2a] = this.width === 1 ? 0x08 : 0x0b; // max bytes in a buffered write (log2)
    this.#writeblockSize = 1 << c[0x2a];
    if (!this.oldMultipleChipHandling && numDevices > 1) this.#writeblockSize *= numDevices;
    c[0x2c] = 0x01; // one uniform erase block region
    c[0x2d] = (blocksPerDevice - 1) & 0xff;
    c[0x2e] = ((blocksPerDevice - 1) >> 8) & 0xff;
    c[0x2f] = (sectorLenPerDevice >> 8) & 0xff;
    c[0x30] = (sectorLenPerDevice >> 16) & 0xff;
    c.set([0x50, 0x52, 0x49, 0x31, 0x30], 0x31); // "PRI", version "10"
    c[0x3f] = 0x01; // number of protection fields
  }

  /** Bits dropped from a query offset so that it counts in units of the chip's maximum width (QEMU pflash_cfi_query). */
  private queryShift(): number {
    return ctz(this.width) + ctz(this.#maxDeviceWidth) - ctz(this.deviceWidth);
  }

  /** One chip's CFI answer at `offset`, replicated over the bank (QEMU pflash_cfi_query). */
  private cfiQuery(offset: number): number {
    const boff = offset >>> this.queryShift();
    if (boff >= CFI_TABLE_SIZE) return 0;
    let resp = this.#cfi[boff]!;
    const dw = this.deviceWidth, mdw = this.#maxDeviceWidth;
    if (dw !== mdw) {
      // only x8 mode of a wider part is supported: the byte is repeated, not zero-padded
      if (dw !== 1 || this.width > 4) return 0;
      for (let i = 1; i < mdw; i++) resp = deposit32(resp, 8 * i, 8, this.#cfi[boff]!);
    }
    return this.replicate(resp);
  }

  /** One chip's ID answer at `offset`, replicated over the bank (QEMU pflash_devid_query). */
  private devidQuery(offset: number): number {
    const boff = offset >>> this.queryShift();
    // offsets 2/3 would be block lock status: not emulated
    switch (boff & 0xff) {
      case 0: return this.replicate(this.id0);
      case 1: return this.replicate(this.id1);
      default: return 0;
    }
  }

  /** Repeats a chip's answer for each chip of the bank. */
  private replicate(resp: number): number {
    const dw = this.deviceWidth;
    if (dw < this.width) {
      for (let i = dw; i < this.width; i += dw) resp = deposit32(resp, 8 * i, 8 * dw, resp);
    }
    return resp >>> 0;
  }

  /** QEMU pflash_data_read. */
  private dataRead(offset: number, width: number): number {
    const p = this.storage;
    let v = 0;
    for (let i = 0; i < width; i++) {
      const b = p[offset + (this.bigEndian ? i : width - 1 - i)] ?? 0;
      v = (v * 256) + b;
    }
    return v >>> 0;
  }

  /** QEMU pflash_data_write. */
  private dataWrite(offset: number, value: number, width: number): void {
    const p = this.storage;
    for (let i = 0; i < width && offset + i < p.length; i++) {
      const shift = 8 * (this.bigEndian ? width - 1 - i : i);
      p[offset + i] = (value >>> shift) & 0xff;
    }
  }

  /** A read in I/O mode (QEMU pflash_read). */
  private read(offset: number, width: number): number {
    switch (this.cmd) {
      case 0x10: case 0x20: case 0x28: case 0x40: case 0x50: case 0x60: case 0x70: case 0xe8: {
        // the status register of each chip of the bank
        let ret = this.status;
        const dw = this.deviceWidth;
        if (dw && width > dw) {
          for (let shift = dw * 8; shift + dw * 8 <= width * 8; shift += dw * 8) ret |= this.status << shift;
        } else if (!dw && width > 2) {
          ret |= this.status << 16; // legacy: two x16 chips
        }
        return ret >>> 0;
      }
      case 0x90: {
        if (!this.deviceWidth) {
          // legacy layout (no device width)
          const boff = (offset & 0xff) >>> (this.width === 2 ? 1 : this.width === 4 ? 2 : 0);
          if (boff === 0) return ((this.id0 << 8) | this.id1) >>> 0;
          if (boff === 1) return ((this.id2 << 8) | this.id3) >>> 0;
          return 0;
        }
        // a read wider than the bank combines the answers of consecutive bank-width addresses
        let ret = 0xffff_ffff;
        for (let i = 0; i < width; i += this.width) {
          ret = deposit32(ret, i * 8, this.width * 8, this.devidQuery(offset + i * this.width));
        }
        return ret;
      }
      case 0x98: {
        if (!this.deviceWidth) {
          const boff = (offset & 0xff) >>> (this.width === 2 ? 1 : this.width === 4 ? 2 : 0);
          return boff < CFI_TABLE_SIZE ? this.#cfi[boff]! : 0;
        }
        let ret = 0xffff_ffff;
        for (let i = 0; i < width; i += this.width) {
          ret = deposit32(ret, i * 8, this.width * 8, this.cfiQuery(offset + i * this.width));
        }
        return ret;
      }
      case CMD_READ_ARRAY:
        return this.dataRead(offset, width);
      default:
        // cannot happen: reset the state and read the array
        this.wcycle = 0;
        this.cmd = CMD_READ_ARRAY;
        return this.dataRead(offset, width);
    }
  }

  /** A write: the next cycle of a command sequence (QEMU pflash_write). */
  private write(offset: number, value: number, width: number): void {
    const cmd = value & 0xff;
    // the first cycle of any command leaves ROMD mode
    if (this.wcycle === 0) this.region.setRomdMode(false);
    switch (this.wcycle) {
      case 0:
        switch (cmd) {
          case 0x00: // QEMU's read-array value
          case 0xf0: // probe for AMD flash
          case 0xff: // read array
            return this.readArrayMode();
          case 0x10: case 0x40: // word program: the data comes next
          case 0x60: // block (un)lock: the confirm comes next
          case 0x98: // CFI query
            break;
          case 0x20: { // block erase: done at once, the confirm comes next
            const start = offset - (offset % this.#sectorLen);
            if (!this.readOnly) this.storage.fill(0xff, start, start + this.#sectorLen);
            else this.status |= STATUS_ERASE_ERROR;
            this.status |= STATUS_READY;
            break;
          }
          case 0x50: // clear status
            this.status = 0;
            return this.readArrayMode();
          case 0x70: // read status
          case 0x90: // read ID
            this.cmd = cmd;
            return;
          case 0xe8: // buffered write: the word count comes next
            // as QEMU, which says so under -d unimp: the data goes to the array at once, not at the confirm
            this.#log.unimp('pflash_write: Write to buffer emulation is flawed');
            this.status |= STATUS_READY;
            break;
          default:
            return this.errorFlash(offset, value);
        }
        this.wcycle++;
        this.cmd = cmd;
        return;
      case 1:
        switch (this.cmd) {
          case 0x10: case 0x40:
            if (!this.readOnly) this.dataWrite(offset, value, width);
            else this.status |= STATUS_PROGRAM_ERROR;
            this.status |= STATUS_READY;
            this.wcycle = 0;
            return;
          case 0x20: case 0x28:
            if (cmd === 0xd0) { this.wcycle = 0; this.status |= STATUS_READY; return; }
            if (cmd === 0xff) return this.readArrayMode();
            return this.errorFlash(offset, value);
          case 0xe8:
            // the count of words minus one, in one chip's width
            this.counter = extract32(value, 8 * (this.deviceWidth || this.width));
            this.wcycle++;
            return;
          case 0x60:
            if (cmd === 0xd0 || cmd === 0x01) { this.wcycle = 0; this.status |= STATUS_READY; return; }
            // 0xff, or an unknown (un)locking command
            return this.readArrayMode();
          case 0x98:
            if (cmd === 0xff) return this.readArrayMode();
            return; // stays in query mode
          default:
            return this.errorFlash(offset, value);
        }
      case 2:
        if (this.cmd !== 0xe8) return this.errorFlash(offset, value);
        if (!this.readOnly) this.dataWrite(offset, value, width);
        else this.status |= STATUS_PROGRAM_ERROR;
        this.status |= STATUS_READY;
        if (this.counter === 0) {
          this.wcycle++;
          if (this.readOnly) this.status |= STATUS_PROGRAM_ERROR;
        }
        // QEMU's counter is a uint64_t: below zero it wraps
        this.counter = this.counter === 0 ? 2 ** 32 - 1 : this.counter - 1;
        return;
      case 3:
        if (this.cmd !== 0xe8) return this.errorFlash(offset, value);
        if (cmd === 0xd0) { this.wcycle = 0; this.status |= STATUS_READY; return; }
        this.#log.unimp(`pflash_write: Aborting write to buffer not implemented, the data is already written to storage! Flash device reset into READ mode.`);
        return this.readArrayMode();
      default:
        return this.readArrayMode();
    }
  }

  private errorFlash(offset: number, value: number): void {
    this.#log.unimp(`pflash_write: Unimplemented flash cmd sequence (offset 0x${offset.toString(16).padStart(16, '0')}, `
      + `wcycle 0x${this.wcycle.toString(16)} cmd 0x${this.cmd.toString(16)} value 0x${value.toString(16)})`);
    this.readArrayMode();
  }

  /** QEMU mode_read_array: back to ROMD mode, no command. */
  private readArrayMode(): void {
    this.region.setRomdMode(true);
    this.wcycle = 0;
    this.cmd = CMD_READ_ARRAY;
  }
}

defineType({
  name: TYPE_PFLASH_CFI01,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: PFlashCfi01,
  description: 'CFI parallel NOR flash, Intel/Sharp command set',
  properties: {
    numBlocks: prop.u32(0, { description: 'number of erase blocks the guest sees (size / sector length)' }),
    sectorLength: prop.u64(0, { description: 'bytes per erase block' }),
    width: prop.u8(0, { description: 'bank width in bytes (1, 2 or 4)' }),
    deviceWidth: prop.u8(0, { description: 'width of each chip in bytes (0: legacy behaviour)' }),
    maxDeviceWidth: prop.u8(0, { description: 'maximum width of each chip (0: deviceWidth)' }),
    bigEndian: prop.bool(false, { description: 'data in big-endian byte order' }),
    id0: prop.u16(0, { description: 'manufacturer ID' }),
    id1: prop.u16(0, { description: 'device ID' }),
    id2: prop.u16(0, { description: 'device ID 2 (legacy layout)' }),
    id3: prop.u16(0, { description: 'device ID 3 (legacy layout)' }),
    regionName: prop.string('', { description: "name of the flash region (QEMU's 'name')" }),
    oldMultipleChipHandling: prop.bool(false, { description: 'CFI geometry as QEMU < 3.1' }),
    readOnly: prop.bool(false, { description: 'refuse program and erase (status errors)' }),
  },
});
