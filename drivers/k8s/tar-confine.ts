import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { InvalidInputError } from '../../src/errors.js';

/** A tar stream checked entry by entry on its way to the helper. */
export interface ConfinedTar {
  /** The re-packed archive, ending with the `completeMarker` entry once every entry passed. */
  readonly stream: Readable;
  /** Called once with the first refused entry (or unreadable bytes); the stream is then destroyed. */
  onRefused(listener: (error: InvalidInputError) => void): void;
}

/** `name` as a path relative to the root, or an InvalidInputError when it is absolute or climbs out. */
function confined(name: string, field: string, what: string): string {
  const normal = posix.normalize(name);
  if (name.startsWith('/') || normal === '..' || normal.startsWith('../')) {
    throw new InvalidInputError(field, what, name);
  }
  return normal;
}

/** Throws for an entry that would land, or link, outside the root. */
export function checkEntry(header: tar.Header): void {
  const field = `tar entry "${header.name}"`;
  const name = confined(header.name, field, 'a path relative to the volume root that stays inside it');
  const linkname = header.linkname ?? '';
  if (header.type === 'link') confined(linkname, field, 'a hard link to a file inside the volume');
  if (header.type === 'symlink') {
    const target = linkname.startsWith('/') ? linkname : posix.join(posix.dirname(name), linkname);
    confined(target, field, 'a symlink that points inside the volume');
  }
}

/**
 * Streams `source` through a tar parser, refusing the first entry that escapes the root
 * (absolute, `..`, links leading out). Entries pass one at a time with back-pressure, so
 * large archives are never held whole. Only when the source ended and every entry passed
 * is the empty entry `completeMarker` appended: the helper extracts into a staging
 * directory and merges it into the volume only when that entry arrived, so a refused
 * archive writes nothing to the volume.
 */
export function confineTar(source: Readable, completeMarker: string): ConfinedTar {
  const extract = tar.extract();
  const pack = tar.pack();
  const output = new PassThrough();
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
      checkEntry(header);
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
    const sink = pack.entry(header, (error) => (error ? extract.destroy(error) : next()));
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
  pipeline(source, extract).catch((error: unknown) => {
    refuse(error instanceof InvalidInputError ? error : new InvalidInputError('tar', 'a valid tar stream', undefined, { cause: error }));
  });
  pack.on('error', () => {});
  // Output gone before the whole archive was parsed (the copy failed or was aborted): the
  // caller's source is released and the parser stops.
  output.once('close', () => {
    if (parsed) return;
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
