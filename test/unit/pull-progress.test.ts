import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { PullProgress, type PullMessage } from '../../drivers/docker/images.js';
import { CHANNELS, DriverEvents, type EventPayloads } from '../../src/kit/events.js';

/** A Docker engine's pull stream, as `docker pull` of a two-layer image prints it (one layer already present). */
const STREAM: PullMessage[] = [
  { status: 'Pulling from library/app', id: 'latest' },
  { status: 'Already exists', id: 'aaa' },
  { status: 'Pulling fs layer', id: 'bbb' },
  { status: 'Downloading', id: 'bbb', progressDetail: { current: 1000, total: 4000 } },
  { status: 'Downloading', id: 'bbb', progressDetail: { current: 3000, total: 4000 } },
  { status: 'Download complete', id: 'bbb' },
  { status: 'Pull complete', id: 'bbb' },
  { status: 'Digest: sha256:0123' },
];

describe('image pull progress (docker)', () => {
  const seen: Array<EventPayloads['imagePullProgress']> = [];
  const listener = (message: unknown): void => void seen.push(message as EventPayloads['imagePullProgress']);
  afterEach(() => {
    unsubscribe(CHANNELS.imagePullProgress, listener);
    seen.length = 0;
  });

  it('sums the layers of the engine stream into bytes and layers so far, the tag line not a layer', () => {
    subscribe(CHANNELS.imagePullProgress, listener);
    let clock = 1000;
    const progress = new PullProgress('app:latest', new DriverEvents('docker', 'ns-1'), () => (clock += 250));
    for (const message of STREAM) progress.update(message);
    expect(seen.map(({ currentBytes, totalBytes, layersDone, layers }) => [currentBytes, totalBytes, layersDone, layers])).toEqual([
      [0, 0, 1, 1],
      [0, 0, 1, 2],
      [1000, 4000, 1, 2],
      [3000, 4000, 1, 2],
      [4000, 4000, 2, 2],
      [4000, 4000, 2, 2],
    ]);
    expect(seen[0]).toMatchObject({ driver: 'docker', namespace: 'ns-1', image: 'app:latest' });
  });

  it('publishes at most one event per 200 ms', () => {
    subscribe(CHANNELS.imagePullProgress, listener);
    let clock = 1000;
    const progress = new PullProgress('app:latest', new DriverEvents('docker', 'ns-1'), () => (clock += 50));
    for (const message of STREAM) progress.update(message);
    // 7 layer messages 50 ms apart: the first, then one after 200 ms.
    expect(seen).toHaveLength(2);
  });
});
