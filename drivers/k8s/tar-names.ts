import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';

/**
 * Rewrites a tar stream made by `tar -C <root> -c ./…` so that entry names are relative
 * to the root without the `./` prefix (`./a/b` → `a/b`), drops the root entry itself
 * (`./`), and keeps everything else (modes, links, binary content) as is.
 */
export function entryName(name: string): string | undefined {
  const stripped = name.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
  return stripped === '' || stripped === '.' ? undefined : stripped;
}

/** `source` re-packed with {@link entryName}; errors of either side destroy the result. */
export function normaliseTarNames(source: Readable): Readable {
  const extract = tar.extract();
  const pack = tar.pack();
  extract.on('entry', (header, stream, next) => {
    const name = entryName(header.name);
    if (name === undefined) {
      stream.resume();
      stream.on('end', next);
      return;
    }
    const rewritten = { ...header, name };
    if (header.linkname !== undefined && header.linkname !== null && header.type === 'link') rewritten.linkname = entryName(header.linkname) ?? header.linkname;
    const entry = pack.entry(rewritten, (error) => (error ? extract.destroy(error) : next()));
    stream.pipe(entry);
  });
  extract.on('finish', () => pack.finalize());
  // tar-stream's streams are not Node streams: hand out a real one.
  const output = new PassThrough();
  pipeline(source, extract).catch((error: unknown) => output.destroy(error as Error));
  pack.on('error', (error: Error) => output.destroy(error));
  pack.pipe(output);
  return output;
}
