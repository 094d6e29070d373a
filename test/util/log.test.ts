import { describe, it, expect } from 'vitest';
import { LOG_ALL, LOG_BIT, LOG_ITEMS, Logger, LogMaskError, parseLogMask, type LogCategory } from '../../src/util/log.js';

function capture(mask: string | number): { logger: Logger; lines: Array<[LogCategory, string]> } {
  const lines: Array<[LogCategory, string]> = [];
  const logger = new Logger({ mask, sink: (c, m) => lines.push([c, m]) });
  return { logger, lines };
}

describe('Logger', () => {
  it('delivers only enabled categories to the sink', () => {
    const { logger, lines } = capture('guest_errors,int');
    logger.guestError('bad register 0x44');
    logger.unimp('pmp');
    logger.log('int', 'trap 5\n');
    logger.log('mmu', 'walk');
    expect(lines).toEqual([['guest_errors', 'bad register 0x44'], ['int', 'trap 5']]);
  });

  it('does not build lazy messages of disabled categories', () => {
    const { logger, lines } = capture('unimp');
    let built = 0;
    logger.guestError(() => { built++; return 'x'; });
    logger.unimp(() => { built++; return 'y'; });
    expect(built).toBe(1);
    expect(lines).toEqual([['unimp', 'y']]);
  });

  it('discards by default and can be enabled later', () => {
    const logger = new Logger();
    expect(logger.enabled('guest_errors')).toBe(false);
    logger.guestError('dropped'); // default sink: no output, no throw
    const lines: string[] = [];
    logger.sink = (_c, m) => lines.push(m);
    logger.enable('guest_errors');
    logger.guestError('kept');
    logger.disable('guest_errors');
    logger.guestError('dropped again');
    expect(lines).toEqual(['kept']);
  });

  it('keeps two loggers independent', () => {
    const a = capture('guest_errors');
    const b = capture(0);
    a.logger.guestError('a');
    b.logger.guestError('b');
    expect(a.lines.length).toBe(1);
    expect(b.lines.length).toBe(0);
  });
});

describe('parseLogMask', () => {
  it('ORs the named bits', () => {
    expect(parseLogMask('int,mmu')).toBe(LOG_BIT.int | LOG_BIT.mmu);
    expect(parseLogMask('')).toBe(0);
    expect(parseLogMask('all')).toBe(LOG_ALL);
    for (const item of LOG_ITEMS) expect(LOG_ALL & LOG_BIT[item.name]).not.toBe(0);
    expect(new Set(Object.values(LOG_BIT)).size).toBe(LOG_ITEMS.length);
  });

  it('names the unknown item and lists valid ones', () => {
    expect(() => parseLogMask('int,bogus')).toThrow(LogMaskError);
    expect(() => parseLogMask('int,bogus')).toThrow(/'bogus'.*guest_errors/);
  });
});
