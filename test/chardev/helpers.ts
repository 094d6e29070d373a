import type { CharBackend, ChardevEvent, CharFrontendHandlers } from '../../src/chardev/index.js';

/** A fake UART: a receive FIFO of fixed depth that the "guest" drains by reading. */
export class FakeUart implements CharFrontendHandlers {
  fifo: number[] = [];
  received: number[] = [];
  events: ChardevEvent[] = [];
  be: CharBackend | null = null;
  /** Max bytes accepted by one receive() call, to check canReceive is honoured. */
  maxSeen = 0;
  constructor(public depth: number) {}
  canReceive(): number {
    return this.depth - this.fifo.length;
  }
  receive(bytes: Uint8Array): void {
    if (bytes.length > this.canReceive()) throw new Error(`overrun: got ${bytes.length}, room ${this.canReceive()}`);
    this.maxSeen = Math.max(this.maxSeen, bytes.length);
    for (const b of bytes) this.fifo.push(b);
  }
  event(ev: ChardevEvent): void {
    this.events.push(ev);
  }
  /** The guest reads `n` bytes (RBR reads), then the device calls acceptInput as QEMU serial.c does. */
  read(n: number): void {
    for (let i = 0; i < n && this.fifo.length > 0; i++) this.received.push(this.fifo.shift()!);
    this.be?.acceptInput();
  }
  readAll(): void {
    while (this.fifo.length > 0) this.read(this.fifo.length);
  }
  text(): string {
    return String.fromCharCode(...this.received);
  }
}
