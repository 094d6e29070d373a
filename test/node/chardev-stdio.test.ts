import { describe, it, expect } from 'vitest';
import { PassThrough } from 'node:stream';
import { StdioChardev, type StdinLike } from '../../src/node/chardev-stdio.js';

type FakeTty = PassThrough & StdinLike & { modes: boolean[] };

function fakeTty(): FakeTty {
  const s = new PassThrough() as FakeTty;
  s.isTTY = true;
  s.isRaw = false;
  s.modes = [];
  s.setRawMode = (m: boolean) => { s.modes.push(m); s.isRaw = m; return s; };
  return s;
}

describe('StdioChardev', () => {
  it('puts a TTY in raw mode and restores it on close', () => {
    const input = fakeTty();
    const output = new PassThrough();
    const chr = new StdioChardev({ input, output });
    expect(input.modes).toEqual([true]);
    chr.close();
    expect(input.modes).toEqual([true, false]);
  });

  it('leaves a non-TTY alone and passes bytes both ways', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const chr = new StdioChardev({ input, output });
    const got: number[] = [];
    const be = chr.attach({ canReceive: () => 100, receive: (b) => got.push(...b) });
    input.write('abc');
    await new Promise((r) => setImmediate(r));
    expect(Buffer.from(got).toString()).toBe('abc');
    be.write(new TextEncoder().encode('out'));
    expect(output.read()?.toString()).toBe('out');
    chr.close();
    input.write('late');
    await new Promise((r) => setImmediate(r));
    expect(got.length).toBe(3);
  });

  it('with signal, Ctrl-C emits quit instead of reaching the guest', async () => {
    const input = fakeTty();
    const chr = new StdioChardev({ input, output: new PassThrough(), signal: true });
    let quits = 0;
    chr.on('quit', () => quits++);
    const got: number[] = [];
    chr.attach({ canReceive: () => 100, receive: (b) => got.push(...b) });
    input.write(Buffer.from([0x61, 0x03, 0x62]));
    await new Promise((r) => setImmediate(r));
    expect(quits).toBe(1);
    expect(got).toEqual([0x61, 0x62]);
    chr.close();
  });

  it('without signal, Ctrl-C goes to the guest', async () => {
    const input = fakeTty();
    const chr = new StdioChardev({ input, output: new PassThrough() });
    const got: number[] = [];
    chr.attach({ canReceive: () => 100, receive: (b) => got.push(...b) });
    input.write(Buffer.from([0x03]));
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([0x03]);
    chr.close();
  });
});
