import fc from 'fast-check';

/**
 * The most permissive `tar -x` there could be, over an in-memory file system: it follows
 * symlinks wherever the kernel would (parents, existing final components of files, hard
 * link sources) and refuses nothing. An archive the drivers accept must stay inside the
 * root even here, so the check holds for any real extractor.
 *
 * Paths are absolute in the model: `/r` is the root the archive is extracted into, `/` and
 * everything else is outside.
 */

/** One archive entry as the property tests generate it. */
export interface ModelEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
}

type Node = { kind: 'dir' } | { kind: 'file' } | { kind: 'symlink'; target: string };

const ROOT = '/r';
const MAX_HOPS = 40;

/** `path` is `/r` or below it. */
export function insideRoot(path: string): boolean {
  return path === ROOT || path.startsWith(`${ROOT}/`);
}

function parts(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function parent(path: string): string {
  const at = path.lastIndexOf('/');
  return at <= 0 ? '/' : path.slice(0, at);
}

/** What extracting entries did: every place it wrote, and the files system afterwards. */
export class ModelFs {
  readonly nodes = new Map<string, Node>([['/', { kind: 'dir' }], [ROOT, { kind: 'dir' }]]);
  /** Every path created or written, and every hard-link source. */
  readonly touched: string[] = [];

  /**
   * Resolves `path` (relative to `from`, or absolute) following symlinks; the final
   * component is followed when `followLast`. Missing components resolve lexically.
   * `undefined` for a symlink loop.
   */
  resolve(path: string, from: string, followLast: boolean): string | undefined {
    let at = path.startsWith('/') ? '/' : from;
    const queue = parts(path);
    let hops = 0;
    while (queue.length > 0) {
      const part = queue.shift() as string;
      if (part === '..') {
        at = parent(at);
        continue;
      }
      const next = join(at, part);
      const node = this.nodes.get(next);
      if (node?.kind === 'symlink' && (queue.length > 0 || followLast)) {
        if ((hops += 1) > MAX_HOPS) return undefined;
        queue.unshift(...parts(node.target));
        if (node.target.startsWith('/')) at = '/';
        continue;
      }
      at = next;
    }
    return at;
  }

  /** Creates every missing directory of `dir` (following symlinks); returns where it is. */
  private mkdirs(dir: string): string | undefined {
    let at = ROOT;
    for (const part of parts(dir)) {
      const next = this.resolve(part, at, true);
      if (next === undefined) return undefined;
      if (!this.nodes.has(next)) {
        this.nodes.set(next, { kind: 'dir' });
        this.touched.push(next);
      }
      at = next;
    }
    return at;
  }

  /** Extracts one entry as the most permissive extractor would. */
  extract(entry: ModelEntry): void {
    const names = parts(entry.name);
    const base = names.pop();
    const dir = this.mkdirs(names.join('/'));
    if (dir === undefined || base === undefined) return;
    const lexical = base === '..' ? parent(dir) : join(dir, base);
    switch (entry.type) {
      case 'directory':
      case 'file': {
        // Writes through an existing symlink at the final component.
        const target = this.resolve(base, dir, true);
        if (target === undefined) return;
        if (!this.nodes.has(target) || entry.type === 'file') this.nodes.set(target, { kind: entry.type === 'file' ? 'file' : 'dir' });
        this.touched.push(target);
        return;
      }
      case 'symlink':
        this.nodes.set(lexical, { kind: 'symlink', target: entry.linkname ?? '' });
        this.touched.push(lexical);
        return;
      case 'link': {
        // link(2) does not follow the source's last component: a link to a symlink copies it.
        const source = this.resolve(entry.linkname ?? '', ROOT, false);
        if (source === undefined) return;
        this.touched.push(source, lexical);
        const node = this.nodes.get(source);
        this.nodes.set(lexical, node?.kind === 'symlink' ? { ...node } : { kind: 'file' });
        return;
      }
    }
  }

  /** Paths written outside the root, and symlinks under the root that resolve outside it. */
  escapes(): string[] {
    const found = this.touched.filter((path) => !insideRoot(path));
    for (const [path, node] of this.nodes) {
      if (node.kind !== 'symlink' || !insideRoot(path)) continue;
      const target = this.resolve(node.target, parent(path), true);
      if (target !== undefined && !insideRoot(target)) found.push(`${path} -> ${node.target}`);
    }
    return found;
  }
}

/** Path components that make escapes likely. */
const component = fc.constantFrom('a', 'b', 'c', '.', '..', '');

/** A relative-looking path from {@link component}s, sometimes absolute. */
export const modelPath: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 0, max: 9 }), fc.array(component, { minLength: 1, maxLength: 4 }))
  .map(([one, names]) => `${one === 0 ? '/' : ''}${names.join('/')}`);

/** A short archive of files, directories, symlinks and hard links over a few names. */
export const modelArchive: fc.Arbitrary<ModelEntry[]> = fc.array(
  fc.oneof(
    fc.record({ name: modelPath, type: fc.constantFrom('file' as const, 'directory' as const) }),
    fc.record({ name: modelPath, type: fc.constant('symlink' as const), linkname: modelPath }),
    fc.record({ name: modelPath, type: fc.constant('link' as const), linkname: modelPath }),
  ),
  { minLength: 1, maxLength: 6 },
);
