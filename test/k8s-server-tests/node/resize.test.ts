import { describe, expect, it } from 'vitest';
import { ResizeDecoder, ResizeQueue, type TerminalSize } from '../../k8s-server/node/streams/resize.js';

const decode = (...chunks: string[]): TerminalSize[] => {
  const sizes: TerminalSize[] = [];
  const decoder = new ResizeDecoder((size) => sizes.push(size));
  for (const chunk of chunks) decoder.push(Buffer.from(chunk));
  return sizes;
};

describe('channel 4 as the kubelet reads it', () => {
  it('one JSON stream: objects split across frames, several in one, client-go\'s newline, any key case', () => {
    expect(decode('{"Wid', 'th":80,"Height":24}\n{"Width":81,', '"Height":25}\n{"width":9,"HEIGHT":3}')).toEqual([
      { width: 80, height: 24 },
      { width: 81, height: 25 },
      { width: 9, height: 3 },
    ]);
    // Unknown keys are ignored, a missing side is 0 (the queue then skips the size).
    expect(decode('{"Width":5,"Other":{"a":"}"}}')).toEqual([{ width: 5, height: 0 }]);
  });

  it('the first value that does not decode ends the stream: no size after it is read', () => {
    for (const bad of ['{"Width":-1,"Height":2}', '{"Width":65536,"Height":2}', '{"Width":"80","Height":2}', '[80,24]', 'junk', '{"Width":1,}']) {
      expect({ bad, sizes: decode('{"Width":7,"Height":8}', bad, '{"Width":9,"Height":9}') }).toEqual({ bad, sizes: [{ width: 7, height: 8 }] });
    }
  });
});

describe('sizes applied as the kubelet\'s HandleResizing applies them', () => {
  it('in order, one call at a time, none before start, sides below 1 skipped, none after stop', async () => {
    const applied: string[] = [];
    let running = 0;
    let overlapped = false;
    const queue = new ResizeQueue(async (size) => {
      running += 1;
      overlapped ||= running > 1;
      // Later calls answer sooner: only a queue that waits for each keeps the order.
      await new Promise((resolve) => setTimeout(resolve, 20 - size.width));
      applied.push(`${size.width}x${size.height}`);
      running -= 1;
      if (size.width === 3) throw new Error('the process ended');
    });
    for (const [width, height] of [[1, 1], [0, 5], [2, 2], [3, 3], [4, 0], [5, 5]] as const) queue.push({ width, height });
    await new Promise((resolve) => setImmediate(resolve));
    expect(applied).toEqual([]);
    queue.start();
    await queue.settled();
    expect(applied).toEqual(['1x1', '2x2', '3x3', '5x5']);
    expect(overlapped).toBe(false);
    queue.stop();
    queue.push({ width: 6, height: 6 });
    await queue.settled();
    expect(applied).toHaveLength(4);
  });
});
