import type { Duplex } from 'node:stream';
import { stdinToReadable } from '../../src/stdin.js';
import type { StdinSource } from '../../src/types.js';
import { writeWithBackpressure } from '../../src/kit/write.js';

/** How long the attach connection may linger after stdin was delivered, in milliseconds. */
const LINGER_MS = 5_000;

/**
 * Streams `stdin` into a hijacked attach connection chunk by chunk (never buffered
 * whole), then half-closes it so the process reads EOF. The connection is always
 * destroyed at the end, so it never keeps the process alive. A process that exits
 * without reading everything is not an error.
 *
 * On a terminal (`terminal`) the input is not closed after the last byte: the terminal's
 * input stays open as a keyboard's does (0x04 is the end of input there), and the
 * connection lives until the engine closes it when the container stops.
 */
export async function pumpStdin(connection: Duplex, stdin: StdinSource, terminal = false): Promise<void> {
  // Nothing comes back on a stdin-only attach; reading keeps the socket flowing to its end.
  connection.resume();
  const source = stdinToReadable(stdin);
  try {
    for await (const chunk of source) {
      await writeWithBackpressure(connection, Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
    }
    if (!terminal) await new Promise<void>((resolve) => connection.end(resolve));
    await new Promise<void>((resolve) => {
      const timer = terminal ? undefined : setTimeout(resolve, LINGER_MS).unref();
      connection.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  } catch {
    if (!source.destroyed) source.destroy();
  } finally {
    connection.destroy();
  }
}
