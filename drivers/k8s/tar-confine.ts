import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { InvalidInputError } from '../../src/errors.js';
import { TarConfinement, withoutPaxRecords } from '../../src/tar-confine.js';

/** A tar stream checked entry by entry on its way to the helper. */
export interface ConfinedTar {
  /** The re-packed archive, ending with the `completeMarker` entry once every entry passed. */
  readonly stream: Readable;
  /** Called once with the first refused entry (or unreadable bytes); the stream is then destroyed. */
  onRefused(listener: (error: InvalidInputError) => void): void;
}

/**
 * Streams `source` through a tar parser, refusing the first entry that escapes the root
 * (see {@link TarConfinement}); entries are re-packed without the source's PAX records.
 * Entries pass one at a time with back-pressure, so large archives are never held whole. Only when the source ended and every entry passed
 * is the empty entry `completeMarker` appended: the helper extracts into a staging
 * directory and merges it into the volume only when that entry arrived, so a refused
 * archive writes nothing to the volume.
 */
export function confineTar(source: Readable, completeMarker: string): ConfinedTar {
  const extract = tar.extract();
  const pack = tar.pack();
  const output = new PassThrough();
  const confinement = new TarConfinement();
  let refused: InvalidInputError | undefined;
  const listeners: Array<(error: InvalidInputError) => void> = [];
  const refuse = (error: InvalidInputError): void => {
    if (refused !== undefined) return;
    refused = error;
    for (const listener of listeners) listener(error);
    source.destroy();
    extract.destroy();
    pack.destroy();
    output.destroy();
  };
  extract.on('entry', (header, body, next) => {
    try {
      confinement.check(header);
    } catch (error) {
      body.resume();
      refuse(error as InvalidInputError);
      return;
    }
    if (pack.destroyed) {
      // The copy was stopped (output destroyed): nothing more is packed.
      body.resume();
      return;
    }
    const sink = pack.entry(withoutPaxRecords(header), (error) => (error ? extract.destroy(error) : next()));
    // Destroying the pack mid-entry fails the entry through its callback and also emits here.
    sink.on('error', () => {});
    body.pipe(sink);
  });
  let parsed = false;
  extract.on('finish', () => {
    parsed = true;
    if (refused !== undefined) return;
    pack.entry({ name: completeMarker, type: 'file', size: 0 }, '');
    pack.finalize();
  });
  // Set when the reader went away first: the parser's failure is then ours, not the archive's.
  let stopped = false;
  pipeline(source, extract).catch((error: unknown) => {
    if (stopped) return;
    refuse(error instanceof InvalidInputError ? error : new InvalidInputError('tar', 'a valid tar stream', undefined, { cause: error }));
  });
  pack.on('error', () => {});
  // Output gone before the whole archive was parsed (the copy failed or was aborted, the
  // exec was lost): the caller's source is released and the parser stops, refusing nothing.
  output.once('close', () => {
    if (parsed) return;
    stopped = true;
    source.destroy();
    extract.destroy();
    pack.destroy();
  });
  pack.pipe(output);
  return {
    stream: output,
    onRefused: (listener) => {
      if (refused !== undefined) listener(refused);
      else listeners.push(listener);
    },
  };
}
