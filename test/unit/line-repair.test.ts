import { describe, expect, it } from 'vitest';
import { LineRepair } from '../../drivers/docker/line-repair.js';

const PIECE = LineRepair.PIECE_BYTES;
const piece = (byte = 'x'): Buffer => Buffer.alloc(PIECE, byte);

/** Feeds one stream's records (timestamp, payload) through a repair and returns what it delivers. */
function deliver(records: Array<[string, Buffer | string]>): string {
  const repair = new LineRepair();
  return Buffer.concat(records.flatMap(([timestamp, payload]) => repair.next(timestamp, Buffer.from(payload)))).toString('latin1');
}

describe('LineRepair (the newline Docker 20.10\'s local log driver drops after a line of 16 KiB or more)', () => {
  it.each<[string, Array<[string, Buffer | string]>, string]>([
    ['short lines pass unchanged', [['t1', 'a\n'], ['t2', 'b\n'], ['t3', 'tail']], 'a\nb\ntail'],
    ['a line of exactly 16383 bytes and its newline is one whole message', [['t1', `${'x'.repeat(PIECE - 1)}\n`], ['t2', 'y\n']], `${'x'.repeat(PIECE - 1)}\ny\n`],
    ['a long line followed by more output gets its newline back', [['t1', piece()], ['t1', 'rest'], ['t2', 'next\n']], `${'x'.repeat(PIECE)}rest\nnext\n`],
    ['an empty last piece (a multiple of 16 KiB) is the newline', [['t1', piece()], ['t1', piece()], ['t1', '']], `${'x'.repeat(2 * PIECE)}\n`],
    ['an engine that keeps the newline is left alone', [['t1', piece()], ['t1', 'rest\n'], ['t2', 'next\n']], `${'x'.repeat(PIECE)}rest\nnext\n`],
    ['output ending without a newline after full pieces gets none', [['t1', piece()], ['t1', 'rest']], `${'x'.repeat(PIECE)}rest`],
    ['a full piece at the very end gets no newline', [['t1', piece()]], 'x'.repeat(PIECE)],
    ['a message with another timestamp after the pieces is not their last piece', [['t1', piece()], ['t2', 'other\n']], `${'x'.repeat(PIECE)}other\n`],
    ['two long lines in a row', [['t1', piece()], ['t1', 'a'], ['t2', piece('y')], ['t2', 'b'], ['t3', 'c']], `${'x'.repeat(PIECE)}a\n${'y'.repeat(PIECE)}b\nc`],
  ])('%s', (_title, records, expected) => {
    expect(deliver(records)).toBe(expected);
  });

  it('a 16 KiB message that ends with a newline is a whole line, not a piece', () => {
    const line = Buffer.concat([Buffer.alloc(PIECE - 1, 'x'), Buffer.from('\n')]);
    expect(deliver([['t1', line], ['t1', 'same time\n']])).toBe(`${line.toString('latin1')}same time\n`);
  });
});
