/** RSP framing: checksums, escapes, run-length decoding, acks and Ctrl-C, against the GDB manual's rules. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  binaryToBytes, bytesToHex, hexToBytes, hexToText, rspChecksum, rspDecode, rspEscape, rspFrame, RspReader,
  textToHex, type RspEvent,
} from '../../src/gdbstub/packet.js';

const ascii = (s: string): Uint8Array => binaryToBytes(s);
const text = (b: Uint8Array): string => String.fromCharCode(...b);

function read(...chunks: string[]): RspEvent[] {
  const out: RspEvent[] = [];
  const r = new RspReader((e) => out.push(e));
  for (const c of chunks) r.feed(ascii(c));
  return out;
}

describe('checksum', () => {
  it('is the modulo-256 byte sum, as in the manual', () => {
    // 'O' 0x4f + 'K' 0x4b = 0x9a; "m0,4" = 0x6d+0x30+0x2c+0x34 = 0xfd; the empty packet sums to 0.
    expect(rspChecksum('OK')).toBe(0x9a);
    expect(rspChecksum('m0,4')).toBe(0xfd);
    expect(rspChecksum('')).toBe(0);
    expect(rspChecksum('\xff\xff')).toBe(0xfe);
  });
  it('frames a packet as $payload#cc', () => {
    expect(text(rspFrame('OK'))).toBe('$OK#9a');
    expect(text(rspFrame(''))).toBe('$#00');
  });
});

describe('escapes and run-length encoding', () => {
  it('escapes $ # } * as } then the byte XOR 0x20', () => {
    expect(rspEscape('a$b#c}d*e')).toBe('a}\x04b}\x03c}\x5dd}\x0ae');
    // The checksum covers the escaped bytes on the wire: '}' 0x7d + 0x04 = 0x81.
    expect(text(rspFrame('$'))).toBe('$}\x04#81');
  });
  it('decodes escapes', () => {
    expect(rspDecode('X}\x5d}\x03')).toBe('X}#');
  });
  it('decodes run-length encoding: c*n repeats c n-29 more times', () => {
    // ' ' is 32: three more zeros; the manual's example "0* " means "0000".
    expect(rspDecode('0* ')).toBe('0000');
    expect(rspDecode('ab*"c')).toBe('abbbbbbc'); // '"' = 34 → 5 more b
  });
  it('rejects a dangling escape or a repeat with nothing before it', () => {
    expect(() => rspDecode('ab}')).toThrow(RangeError);
    expect(() => rspDecode('*!')).toThrow(RangeError);
  });
  it('decode(escape(x)) = x for any binary payload', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      const s = String.fromCharCode(...b);
      const e = rspEscape(s);
      expect(e).not.toMatch(/[$#*]/);
      expect(rspDecode(e)).toBe(s);
    }));
  });
});

describe('RspReader', () => {
  it('recognizes acks, nacks, Ctrl-C and packets, skipping garbage', () => {
    expect(read('+', 'junk-\x03$qC#b4')).toEqual([
      { type: 'ack' }, { type: 'nack' }, { type: 'interrupt' }, { type: 'packet', payload: 'qC' },
    ]);
  });
  it('reports a bad checksum', () => {
    expect(read('$qC#00')).toEqual([{ type: 'bad-checksum', expected: 0xb4, got: 0 }]);
    expect(read('$qC#zz')[0]?.type).toBe('bad-checksum');
  });
  it('accepts upper-case checksum digits and restarts on a second $', () => {
    expect(read('$garb$OK#9A')).toEqual([{ type: 'packet', payload: 'OK' }]);
  });
  it('reassembles packets from any chunking', () => {
    fc.assert(fc.property(
      fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 5 }),
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
      (payloads, cuts) => {
        const strs = payloads.map((b) => String.fromCharCode(...b));
        const wire = strs.map((s) => text(rspFrame(s))).join('+');
        const got: RspEvent[] = [];
        const r = new RspReader((e) => got.push(e));
        let pos = 0, k = 0;
        while (pos < wire.length) {
          const n = cuts[k++ % cuts.length]!;
          r.feed(ascii(wire.slice(pos, pos + n)));
          pos += n;
        }
        const packets = got.filter((e) => e.type === 'packet').map((e) => (e as { payload: string }).payload);
        expect(packets).toEqual(strs);
        expect(got.filter((e) => e.type === 'ack')).toHaveLength(strs.length - 1);
      },
    ));
  });
});

describe('hex helpers', () => {
  it('converts bytes and text', () => {
    expect(bytesToHex(new Uint8Array([0, 0x1f, 0xff]))).toBe('001fff');
    expect(hexToBytes('001FfF')).toEqual(new Uint8Array([0, 0x1f, 0xff]));
    expect(hexToBytes('abc')).toBeNull();
    expect(hexToBytes('zz')).toBeNull();
    expect(textToHex('help')).toBe('68656c70');
    expect(hexToText('68656c70')).toBe('help');
  });
});
