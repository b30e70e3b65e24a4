import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { extract, pack, type Header } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEntries, confinedEntries } from '../../drivers/docker/tar-rewrite.js';
import { confineTar } from '../../drivers/k8s/tar-confine.js';
import { extractInto, within } from '../../drivers/native/tar-in.js';
import { InvalidInputError } from '../../src/errors.js';
import { TarConfinement } from '../../src/tar-confine.js';
import { checkProperty } from './budget.js';
import { modelArchive, ModelFs, type ModelEntry } from './tar-model.js';
import { tarBytes } from '../support/tar.js';

/** The entries before the first one `TarConfinement` refuses, and whether one was refused. */
function acceptedPrefix(entries: readonly ModelEntry[]): { accepted: ModelEntry[]; refused: boolean } {
  const confinement = new TarConfinement();
  const accepted: ModelEntry[] = [];
  for (const entry of entries) {
    try {
      confinement.check(entry);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      return { accepted, refused: true };
    }
    accepted.push(entry);
  }
  return { accepted, refused: false };
}

/** The archive's bytes; entries get extra PAX records when `pax` is given. `undefined` when tar-stream cannot pack it. */
async function archiveOf(entries: readonly ModelEntry[], pax?: Record<string, string>): Promise<Buffer | undefined> {
  const inputs = entries.map(({ name, type, linkname }) => ({ name: name === '' ? '.' : name, type, ...(linkname === undefined ? {} : { linkname }), ...(pax === undefined ? {} : { pax }), content: type === 'file' ? 'x' : '' }));
  return tarBytes(inputs).catch(() => undefined);
}

interface Parsed {
  header: Header;
  content: string;
}

/** Every entry of a tar stream with its content. */
async function parse(bytes: Readable | Buffer): Promise<Parsed[]> {
  const parser = extract();
  const out: Parsed[] = [];
  // A source that fails or is destroyed fails the parse too, instead of leaving it waiting.
  const feeding = (async () => {
    for await (const chunk of Buffer.isBuffer(bytes) ? [bytes] : (bytes as AsyncIterable<Buffer>)) parser.write(chunk);
    (parser as unknown as { end(): void }).end();
  })().catch((error: unknown) => parser.destroy(error as Error));
  try {
    for await (const entry of parser) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      out.push({ header: entry.header, content: Buffer.concat(chunks).toString() });
    }
  } finally {
    await feeding;
  }
  return out;
}

/** The archive after k8s confinement: its entries, or the refusal. */
async function throughK8s(bytes: Buffer): Promise<Parsed[] | InvalidInputError> {
  const confined = confineTar(Readable.from([bytes]), '.complete');
  let refusal: InvalidInputError | undefined;
  confined.onRefused((error) => (refusal = error));
  const parsed = await parse(confined.stream).catch((error: unknown) => error);
  if (refusal !== undefined) return refusal;
  if (parsed instanceof Error) throw parsed;
  return parsed as Parsed[];
}

/** The archive after the Docker driver's confinement: its entries, or the refusal. */
async function throughDocker(bytes: Buffer): Promise<Parsed[] | InvalidInputError> {
  const out = pack();
  const appending = appendEntries(Readable.from([bytes]), out, confinedEntries()).then(
    () => out.finalize(),
    (error: unknown) => error,
  );
  const parsed = parse(Readable.from(out as AsyncIterable<Buffer>));
  const failure = await appending;
  if (failure instanceof InvalidInputError) {
    out.destroy();
    await parsed.catch(() => {});
    return failure;
  }
  if (failure !== undefined) throw failure;
  return parsed;
}

const sameEntries = (parsed: Parsed[], entries: ModelEntry[]): boolean =>
  parsed.length === entries.length &&
  parsed.every(({ header, content }, i) => {
    const entry = entries[i] as ModelEntry;
    return header.name.replace(/\/$/, '') === (entry.name === '' ? '.' : entry.name).replace(/\/$/, '') && header.type === entry.type && (entry.type !== 'file' || content === 'x') && (entry.linkname === undefined || header.linkname === entry.linkname);
  });

/** PAX records that a checking parser ignores and some extractors honour. */
const hostilePax = fc.option(fc.record({ 'GNU.sparse.name': fc.constantFrom('../../escaped', '/etc/escaped'), comment: fc.string({ maxLength: 8 }) }, { requiredKeys: [] }), { nil: undefined });

describe('tar confinement', () => {
  it('an accepted archive stays inside the root under the most permissive extractor', async () => {
    await checkProperty('tar: accepted entries never escape (model extractor)', 'pure', fc.property(modelArchive, (entries) => {
      const { accepted } = acceptedPrefix(entries);
      const fs = new ModelFs();
      for (const entry of accepted) fs.extract(entry);
      const escapes = fs.escapes();
      if (escapes.length > 0) throw new Error(`escaped: ${escapes.join(', ')}`);
    }));
  });

  /** The k8s stream ends with its completion entry; Docker's has none. */
  const streams: Array<[string, string, (bytes: Buffer) => Promise<Parsed[] | InvalidInputError>, string | undefined]> = [
    ['k8s: confineTar', 'tar: k8s confineTar', throughK8s, '.complete'],
    ['docker: the copy stream', 'tar: docker copy stream', throughDocker, undefined],
  ];
  it.each(streams)('%s passes exactly the accepted archives, unchanged, without PAX records of the source', async (_title, property, through, marker) => {
    await checkProperty(property, 'stream', fc.asyncProperty(modelArchive, hostilePax, async (entries, pax) => {
      const bytes = await archiveOf(entries, pax);
      fc.pre(bytes !== undefined);
      const { refused } = acceptedPrefix(entries);
      const result = await through(bytes as Buffer);
      if (refused) return result instanceof InvalidInputError;
      if (result instanceof InvalidInputError) return false;
      if (marker !== undefined && result.pop()?.header.name !== marker) return false;
      return sameEntries(result, entries) && result.every(({ header }) => Object.keys(header.pax ?? {}).every((key) => key === 'path' || key === 'linkpath'));
    }));
  });

  describe('native: extraction on disk', () => {
    let base: string;
    beforeAll(async () => {
      base = await mkdtemp(join(tmpdir(), 'dt-fuzz-tar-'));
    });
    afterAll(async () => {
      await rm(base, { recursive: true, force: true });
    });

    let counter = 0;
    // 100 cases of a directory tree each: ~40 s with the cores busy, more under heavier load.
    it('writes nothing outside the root and leaves no symlink leading out, whatever the archive', { timeout: 300_000 }, async () => {
      await checkProperty('tar: native extraction stays inside', 'fs', fc.asyncProperty(modelArchive, async (entries) => {
        const bytes = await archiveOf(entries);
        fc.pre(bytes !== undefined);
        // <case>/outside/<…>/root: a few levels to climb, each watched.
        const caseDir = join(base, String((counter += 1)));
        const root = join(caseDir, 'outside', 'o1', 'root');
        await mkdir(root, { recursive: true });
        await extractInto(root, Readable.from([bytes as Buffer]), undefined).catch((error: unknown) => {
          if (!(error instanceof InvalidInputError)) throw error;
        });
        const outside = (await listTree(caseDir)).filter((path) => !within(root, path));
        const leaks = await symlinksLeadingOut(root);
        await rm(caseDir, { recursive: true, force: true });
        if (outside.join() !== [join(caseDir, 'outside'), join(caseDir, 'outside', 'o1')].join()) throw new Error(`written outside: ${outside.join(', ')}`);
        if (leaks.length > 0) throw new Error(`symlinks leading out: ${leaks.join(', ')}`);
      }));
    });
  });

  describe('regressions', () => {
    const cases: Array<[string, ModelEntry[]]> = [
      ['a symlink leaving, with "..", a symlink to "."', [{ name: 'a', type: 'symlink', linkname: '.' }, { name: 'c', type: 'symlink', linkname: 'a/..' }]],
      ['a symlink to "." made after another symlink left it with ".."', [{ name: 'c', type: 'symlink', linkname: 'a/..' }, { name: 'a', type: 'symlink', linkname: '.' }]],
      ['a symlink inside a symlink to "."', [{ name: 'a', type: 'symlink', linkname: '.' }, { name: 'a/b', type: 'symlink', linkname: '..' }]],
      ['a hard link to a symlink, whose text means something else where the link is', [{ name: 'd/s', type: 'symlink', linkname: '..' }, { name: 'h', type: 'link', linkname: 'd/s' }]],
    ];
    it.each(cases)('refused on every driver: %s', async (_title, entries) => {
      const bytes = (await archiveOf(entries)) as Buffer;
      expect(await throughK8s(bytes)).toBeInstanceOf(InvalidInputError);
      expect(await throughDocker(bytes)).toBeInstanceOf(InvalidInputError);
      const root = await mkdtemp(join(tmpdir(), 'dt-fuzz-tar-'));
      try {
        await expect(extractInto(root, Readable.from([bytes]), undefined)).rejects.toBeInstanceOf(InvalidInputError);
        expect(await symlinksLeadingOut(root)).toEqual([]);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });

    it('a GNU.sparse.name PAX record does not reach the extracting tar (GNU tar would extract under that name)', async () => {
      const bytes = (await archiveOf([{ name: 'inside.txt', type: 'file' }], { 'GNU.sparse.name': '../escaped' })) as Buffer;
      expect(execFileSync('tar', ['-t', '-f', '-'], { input: bytes }).toString()).toBe('../escaped\n');
      for (const result of [await throughK8s(bytes), await throughDocker(bytes)]) {
        const repacked = await tarBytesOf(result as Parsed[]);
        expect(execFileSync('tar', ['-t', '-f', '-'], { input: repacked }).toString()).toMatch(/^inside\.txt\n/);
      }
    });

    it.each([
      ['a hard link to a file that is nowhere', [{ name: 'a', type: 'link', linkname: 'a' }]],
      ['a hard link to a directory', [{ name: 'd', type: 'directory' }, { name: 'h', type: 'link', linkname: 'd' }]],
      ['a file where a directory is', [{ name: 'b/a', type: 'file' }, { name: 'b', type: 'file' }]],
    ] as Array<[string, ModelEntry[]]>)('native: %s is bad input (InvalidInputError), not an engine failure', async (_title, entries) => {
      const root = await mkdtemp(join(tmpdir(), 'dt-fuzz-tar-'));
      try {
        await expect(extractInto(root, Readable.from([(await archiveOf(entries)) as Buffer]), undefined)).rejects.toBeInstanceOf(InvalidInputError);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });

    it('native: a symlink or hard link replaces a file already there, as tar does', async () => {
      const root = await mkdtemp(join(tmpdir(), 'dt-fuzz-tar-'));
      try {
        const entries: ModelEntry[] = [{ name: 'c', type: 'file' }, { name: 'c/.', type: 'symlink', linkname: 'a' }, { name: 'f', type: 'file' }, { name: 'g', type: 'file' }, { name: 'g', type: 'link', linkname: 'f' }];
        await extractInto(root, Readable.from([(await archiveOf(entries)) as Buffer]), undefined);
        expect(await readlink(join(root, 'c'))).toBe('a');
        expect((await lstat(join(root, 'g'))).ino).toBe((await lstat(join(root, 'f'))).ino);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });

    it('a symlink that goes up and down through plain directories is still accepted', async () => {
      const bytes = (await archiveOf([{ name: 'dir/file', type: 'file' }, { name: 'dir/sub/link', type: 'symlink', linkname: '../../dir/../dir/file' }])) as Buffer;
      expect(await throughK8s(bytes)).toHaveLength(3);
      expect(await throughDocker(bytes)).toHaveLength(2);
    });
  });
});

/** `parsed` packed again, as the extracting side receives it. */
function tarBytesOf(parsed: Parsed[]): Promise<Buffer> {
  return tarBytes(parsed.map(({ header, content }) => ({ ...header, content: header.type === 'file' ? content : '' })));
}

/** Every path below `dir` (symlinks not followed). */
async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    out.push(path);
    if (entry.isDirectory()) out.push(...(await listTree(path)));
  }
  return out.sort();
}

/**
 * Symlinks below `root` whose target leads out of it, resolved component by component on
 * disk as the kernel would (so dangling ones are judged too).
 */
async function symlinksLeadingOut(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const path of await listTree(root)) {
    if (!(await lstat(path)).isSymbolicLink()) continue;
    const target = await resolveOnDisk(dirname(path), await readlink(path));
    if (target !== undefined && !within(root, target)) found.push(`${relative(root, path)} -> ${await readlink(path)}`);
  }
  return found;
}

async function resolveOnDisk(from: string, path: string, hops = 0): Promise<string | undefined> {
  if (hops > 40) return undefined;
  let at = path.startsWith('/') ? '/' : from;
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i] as string;
    if (part === '..') {
      at = dirname(at);
      continue;
    }
    const next = join(at, part);
    const info = await lstat(next).catch(() => undefined);
    if (info?.isSymbolicLink()) {
      const resolved = await resolveOnDisk(at, await readlink(next), hops + 1);
      if (resolved === undefined) return undefined;
      at = resolved;
    } else at = next;
  }
  return at;
}

