import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { abortReason } from '../../src/abort.js';

/**
 * The engine's JSON message stream (moby `pkg/jsonmessage`), as `/images/load`,
 * `/images/{name}/push` and `/images/create` answer: JSON objects one after another
 * (each followed by `\r\n`), inside a 200 response. A failure is not an HTTP status but
 * a message with `error` / `errorDetail`, usually the last one.
 */

/** One message of the stream. */
export interface JsonMessage {
  id?: string;
  status?: string;
  stream?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: Record<string, unknown>;
}

/** The error a message carries, if it is one. */
export function messageError(message: JsonMessage): string | undefined {
  if (message.errorDetail === undefined && message.error === undefined) return undefined;
  return message.errorDetail?.message || message.error || 'the engine reported an error without a message';
}

/**
 * Reads the whole stream, calling `onMessage` for each message, and resolves with them
 * all. An abort destroys the stream and rejects with the signal's reason; a stream that
 * is cut rejects with its error. Text that is not JSON is kept as a `stream` message.
 */
export async function readJsonMessages(stream: Readable, onMessage: (message: JsonMessage) => void, signal?: AbortSignal): Promise<JsonMessage[]> {
  const onAbort = (): void => {
    stream.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const messages: JsonMessage[] = [];
  let pending = '';
  // A character split across chunks is decoded once whole.
  const decoder = new StringDecoder('utf8');
  const take = (line: string): void => {
    if (line.trim() === '') return;
    let message: JsonMessage;
    try {
      message = JSON.parse(line) as JsonMessage;
    } catch {
      message = { stream: line };
    }
    messages.push(message);
    onMessage(message);
  };
  try {
    for await (const chunk of stream) {
      pending += decoder.write(chunk as Buffer);
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        take(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
      }
    }
    take(pending + decoder.end());
  } catch (error) {
    if (signal?.aborted) throw abortReason(signal);
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted) throw abortReason(signal);
  return messages;
}
