import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The README's library examples run as written, as ES modules importing `drivetrain` (the
 * package's own name, which resolves to the compiled build from inside the checkout), on
 * the Node.js line running the tests: `make test` runs this file on every supported line.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORK = join(ROOT, '.drivetrain', 'readme');

/** The `js` blocks of the README's Library section, in order. */
function libraryExamples(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Library\n'), readme.indexOf('\n## CLI\n'));
  return [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1] as string);
}

/** Runs `code` as a module file of the checkout on this Node; resolves with how it ended. */
function runExample(name: string, code: string): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(join(ROOT, 'dist', 'src', 'index.js'))) throw new Error('the compiled build is missing: run `npm run build` (make test does)');
  mkdirSync(WORK, { recursive: true });
  const file = join(WORK, `${name}-${process.pid}.mjs`);
  writeFileSync(file, code);
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { cwd: ROOT, timeout: 90_000 }, (error, stdout, stderr) => {
      const exit = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code: exit, stdout, stderr });
    });
  });
}

const examples = libraryExamples();
// The README says which lines have `await using`: 24 and 26, not 22.
const hasAwaitUsing = Number(process.versions.node.split('.')[0]) >= 24;

describe(`the README's library examples on Node ${process.versions.node}`, () => {
  it('are two: one with `await using`, one closing the driver in `finally`', () => {
    expect(examples).toHaveLength(2);
    expect(examples[0]).toContain('await using driver');
    expect(examples[1]).not.toContain('await using driver');
    expect(examples[1]).toContain('await driver.close()');
  });

  it('the `finally` example prints hello, on every supported line', async () => {
    const result = await runExample('finally', examples[1] as string);
    expect(result).toEqual({ code: 0, stdout: 'hello\n', stderr: '' });
  });

  it(hasAwaitUsing ? 'the `await using` example prints hello' : 'the `await using` example is a SyntaxError on this line, as the README says', async () => {
    const result = await runExample('await-using', examples[0] as string);
    if (hasAwaitUsing) expect(result).toEqual({ code: 0, stdout: 'hello\n', stderr: '' });
    else expect(result).toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining('SyntaxError') });
  });
});
