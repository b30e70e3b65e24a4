import fc from 'fast-check';
import { describe, it } from 'vitest';
import { useFramedRunner, type FramedTools } from '../k8s/framed-run.js';
import { checkProperty } from './budget.js';

/**
 * The framed-input wrapper (exec with input below v5, drivers/k8s/stdin-frames.ts) run on
 * this machine by dash with GNU dd and by busybox: any bytes in any framing come out exactly, and the command's
 * arguments reach it as given, never read by a shell.
 */

const runFramed = useFramedRunner();
/** dash with GNU dd, or busybox alone. */
const tools = fc.constantFrom<FramedTools>('host', 'busybox');

describe('framed exec input', () => {
  it('any bytes, cut into any frames, reach the command exactly, then EOF', async () => {
    await checkProperty(
      'framed exec input: bytes exact',
      'stream',
      fc.asyncProperty(tools, fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 8 }), async (shell, pieces) => {
        const result = await runFramed(['sh', '-c', 'cat; printf END'], pieces, { tools: shell });
        const expected = Buffer.concat([...pieces.map((piece) => Buffer.from(piece)), Buffer.from('END')]);
        return result.exitCode === 0 && result.stdout.equals(expected) && result.stderr === '';
      }),
    );
  });

  it('arguments reach the command unchanged', async () => {
    const text = fc.string({ unit: fc.constantFrom('$', '(', ')', '`', "'", '"', '\\', ';', '&', '|', '\n', ' ', '*', '-', 'a', '=', '#', '{', '}', '%'), maxLength: 10 });
    await checkProperty(
      'framed exec input: argv unchanged',
      'stream',
      fc.asyncProperty(tools, fc.array(text, { maxLength: 4 }), async (shell, args) => {
        const result = await runFramed(['printf', '%s\\0', ...args, 'end'], [Buffer.from('x')], { tools: shell });
        return result.exitCode === 0 && result.stdout.toString() === [...args, 'end'].map((arg) => `${arg}\0`).join('');
      }),
    );
  });
});
