/**
 * IRQ and GPIO lines (QEMU hw/core/irq.c qemu_irq, hw/core/split-irq.c, hw/core/or-irq.c).
 *
 * An {@link IrqLine} is a wire with a level. A device that drives a line owns it (an output) and the
 * board connects it to the receiver: to a handler, or to another line (an input of an interrupt
 * controller made with `Device.gpioIn`). As in QEMU, every `set` is forwarded to the receiver, even
 * when the level does not change, and connecting does not replay the current level; a line has
 * one receiver (fan-out goes through {@link irqSplit}).
 * @module
 */
import { WiringError } from '../../util/errors.js';

/** Receives the level of a line. */
export type IrqLevelHandler = (level: boolean) => void;

/**
 * Handler for a device's numbered input lines (QEMU qemu_irq_handler): `n` is the line index
 * within its group, `level` the new level.
 */
export type IrqHandler = (n: number, level: boolean) => void;

/** One IRQ/GPIO line (QEMU qemu_irq). */
export class IrqLine {
  #level = false;
  #sink: IrqLine | IrqLevelHandler | null = null;

  /**
   * @param handler receiver of the line's level (makes an input line, as QEMU qemu_allocate_irq);
   *   omit it for an output line that the board connects later.
   * @param name for debugging and error messages.
   */
  constructor(handler?: IrqLevelHandler | IrqLine, readonly name = '') {
    if (handler) this.connect(handler);
  }

  /** The last level set on this line. */
  get level(): boolean {
    return this.#level;
  }

  /** True if the line has a receiver. */
  get connected(): boolean {
    return this.#sink !== null;
  }

  /** Sets the level (any non-zero number is high) and forwards it to the receiver (qemu_set_irq). */
  set(level: boolean | number): void {
    const l = level !== false && level !== 0;
    this.#level = l;
    const s = this.#sink;
    if (s === null) return;
    if (s instanceof IrqLine) s.set(l);
    else s(l);
  }
  /** `set(true)` (qemu_irq_raise). */
  raise(): void {
    this.set(true);
  }
  /** `set(false)` (qemu_irq_lower). */
  lower(): void {
    this.set(false);
  }
  /** Raise then lower, for edge-triggered receivers (qemu_irq_pulse). */
  pulse(): void {
    this.set(true);
    this.set(false);
  }

  /**
   * Connects the line to its receiver: a handler, or another line whose `set` it will call.
   * @throws WiringError if the line is already connected (disconnect first, or fan out with
   *   {@link irqSplit}) or if connecting would make a loop of lines.
   */
  connect(target: IrqLevelHandler | IrqLine): void {
    if (this.#sink !== null) {
      throw new WiringError(`IRQ line ${this.label} is already connected; use irqSplit() to drive several receivers`);
    }
    if (target instanceof IrqLine) {
      for (let t: IrqLine | IrqLevelHandler | null = target; t instanceof IrqLine; t = t.#sink) {
        if (t === this) throw new WiringError(`connecting IRQ line ${this.label} to ${target.label} would make a loop`);
      }
    } else if (typeof target !== 'function') {
      throw new WiringError(`IRQ line ${this.label} can only be connected to an IrqLine or a function`);
    }
    this.#sink = target;
  }

  /** Removes the receiver; later `set`s only record the level. */
  disconnect(): void {
    this.#sink = null;
  }

  private get label(): string {
    return this.name === '' ? '(unnamed)' : `'${this.name}'`;
  }
}

/** Makes `n` input lines that call `handler(i, level)` (QEMU qemu_allocate_irqs). */
export function allocateIrqs(n: number, handler: IrqHandler, name = ''): IrqLine[] {
  if (!Number.isInteger(n) || n < 0) throw new WiringError(`cannot allocate ${n} IRQ lines`);
  return Array.from({ length: n }, (_, i) => new IrqLine((level) => handler(i, level), name === '' ? '' : `${name}[${i}]`));
}

/**
 * One input line driving several outputs (QEMU TYPE_SPLIT_IRQ): setting the returned line sets
 * each of `lines`, in order.
 */
export function irqSplit(...lines: IrqLine[]): IrqLine {
  return new IrqLine((level) => {
    for (const l of lines) l.set(level);
  }, 'split');
}

/** An inverter: setting the returned line sets `line` to the opposite level (qemu_irq_invert). */
export function irqInvert(line: IrqLine): IrqLine {
  return new IrqLine((level) => line.set(!level), 'invert');
}

/** The lines of an OR gate made by {@link irqOr}. */
export interface OrIrq {
  /** The input lines; their levels are ORed. */
  readonly inputs: readonly IrqLine[];
  /** The output line, set to the OR of the inputs each time an input is set. */
  readonly output: IrqLine;
}

/**
 * An OR gate of `n` inputs (QEMU TYPE_OR_IRQ): each time an input is set, the output is set to
 * whether any input is high. Connect `output` to the receiver.
 */
export function irqOr(n: number, name = 'or'): OrIrq {
  if (!Number.isInteger(n) || n < 1) throw new WiringError(`an OR gate needs at least one input, got ${n}`);
  const output = new IrqLine(undefined, `${name}.out`);
  const inputs: IrqLine[] = [];
  const update = (): void => output.set(inputs.some((l) => l.level));
  // The input stores its level before calling the handler, so `update` sees the new level.
  for (let i = 0; i < n; i++) inputs.push(new IrqLine(update, `${name}.in[${i}]`));
  return { inputs, output };
}
