/**
 * GDB Remote Serial Protocol framing (GDB manual, appendix "Remote Protocol", sections "Overview" and
 * "Packet Acknowledgment"; QEMU gdbstub/gdbstub.c gdb_read_byte / put_packet_binary).
 *
 * A packet is `$payload#cc` where `cc` is the modulo-256 sum of the payload's bytes in two hex digits.
 * Inside the payload `}` escapes the next byte (sent XOR 0x20) and `c*n` repeats `c` `n - 29` more times
 * (run-length encoding). Outside packets, `+`/`-` acknowledge and a lone 0x03 byte is an interrupt (Ctrl-C).
 *
 * Payloads are handled as "binary strings": one char per byte (code 0..255), so text commands parse
 * with ordinary string functions and the binary data of `X` packets survives unchanged.
 * @module
 */

/** One thing the reader recognized in the byte stream. */
export type RspEvent =
  /** A well-formed packet; `payload` is unescaped and run-length decoded. */
  | { readonly type: 'packet'; readonly payload: string }
  /** A packet whose checksum did not match (the stub answers `-` in ack mode). */
  | { readonly type: 'bad-checksum'; readonly expected: number; readonly got: number }
  | { readonly type: 'ack' }
  | { readonly type: 'nack' }
  /** 0x03 outside a packet: the user pressed Ctrl-C. */
  | { readonly type: 'interrupt' };

/** Modulo-256 sum of a binary string's bytes. */
export function rspChecksum(raw: string): number {
  let s = 0;
  for (let i = 0; i < raw.length; i++) s = (s + (raw.charCodeAt(i) & 0xff)) & 0xff;
  return s;
}

/**
 * Decodes a packet body as received (between `$` and `#`): `}` escapes and `*` run-length encoding.
 * @throws RangeError for a body ending in a lone `}` or starting with `*`.
 */
export function rspDecode(raw: string): string {
  if (!raw.includes('}') && !raw.includes('*')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '}') {
      if (i + 1 >= raw.length) throw new RangeError('RSP packet ends with an escape character');
      out += String.fromCharCode(raw.charCodeAt(++i) ^ 0x20);
    } else if (c === '*') {
      // The repeat count is the next byte minus 29; it repeats the last decoded byte.
      if (out.length === 0 || i + 1 >= raw.length) throw new RangeError('RSP run-length marker without a byte to repeat or a count');
      const n = raw.charCodeAt(++i) - 29;
      if (n < 0) throw new RangeError(`RSP run-length count below zero (${n})`);
      out += out[out.length - 1]!.repeat(n);
    } else {
      out += c;
    }
  }
  return out;
}

/** Escapes `$`, `#`, `}` and `*` of a payload (binary string) for sending; never run-length encodes. */
export function rspEscape(payload: string): string {
  if (!/[$#}*]/.test(payload)) return payload;
  let out = '';
  for (let i = 0; i < payload.length; i++) {
    const c = payload.charCodeAt(i);
    if (c === 0x24 || c === 0x23 || c === 0x7d || c === 0x2a) out += '}' + String.fromCharCode(c ^ 0x20);
    else out += payload[i]!;
  }
  return out;
}

/** The bytes of a complete packet `$escaped(payload)#cc`. */
export function rspFrame(payload: string): Uint8Array {
  const body = rspEscape(payload);
  return binaryToBytes(`$${body}#${hex2(rspChecksum(body))}`);
}

/**
 * Incremental packet reader: feed it the bytes as they arrive (in any chunking) and it calls `emit`
 * for each event, in stream order. Garbage between packets is skipped, as gdb's own reader does.
 */
export class RspReader {
  #state: 'idle' | 'body' | 'sum1' | 'sum2' = 'idle';
  #body = '';
  #sum = '';

  constructor(private readonly emit: (e: RspEvent) => void) {}

  /** Consumes a chunk of the stream. */
  feed(bytes: Uint8Array): void {
    for (const b of bytes) this.byte(b);
  }

  private byte(b: number): void {
    switch (this.#state) {
      case 'idle':
        if (b === 0x24) { this.#state = 'body'; this.#body = ''; }
        else if (b === 0x2b) this.emit({ type: 'ack' });
        else if (b === 0x2d) this.emit({ type: 'nack' });
        else if (b === 0x03) this.emit({ type: 'interrupt' });
        return;
      case 'body':
        if (b === 0x23) this.#state = 'sum1';
        else if (b === 0x24) this.#body = ''; // a new start restarts the packet (QEMU does the same)
        else this.#body += String.fromCharCode(b);
        return;
      case 'sum1':
        this.#sum = String.fromCharCode(b);
        this.#state = 'sum2';
        return;
      case 'sum2': {
        this.#state = 'idle';
        const sumText = this.#sum + String.fromCharCode(b);
        const got = /^[0-9a-fA-F]{2}$/.test(sumText) ? parseInt(sumText, 16) : -1;
        const expected = rspChecksum(this.#body);
        const body = this.#body;
        this.#body = '';
        if (got !== expected) { this.emit({ type: 'bad-checksum', expected, got }); return; }
        let payload: string;
        try {
          payload = rspDecode(body);
        } catch {
          this.emit({ type: 'bad-checksum', expected, got });
          return;
        }
        this.emit({ type: 'packet', payload });
      }
    }
  }
}

// ---- hex and binary-string helpers ---------------------------------------------------------------

/** Two lower-case hex digits. */
export function hex2(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}

/** Bytes → lower-case hex (as `m` and `g` replies). */
export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += hex2(b);
  return s;
}

/** Hex → bytes, or null if `hex` has an odd length or a non-hex digit. */
export function hexToBytes(hex: string): Uint8Array | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A binary string (one char per byte) → bytes. */
export function binaryToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** Bytes → a binary string. */
export function bytesToBinary(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** Text (UTF-8) → hex, as `qRcmd` commands and their output are encoded. */
export function textToHex(text: string): string {
  return bytesToHex(new TextEncoder().encode(text));
}

/** Hex → text (UTF-8), or null for bad hex. */
export function hexToText(hex: string): string | null {
  const b = hexToBytes(hex);
  return b === null ? null : new TextDecoder().decode(b);
}

/** Parses an unsigned hex number (an address or a length), or null. */
export function parseHex(s: string): bigint | null {
  return /^[0-9a-fA-F]+$/.test(s) ? BigInt('0x' + s) : null;
}
