/**
 * Parsing of `timestamps=true` log output ("<RFC3339Nano> <line>\n") with de-duplication
 * across reconnects: a follow that resumes with `sinceTime` gets lines again from that
 * instant (or its whole second); lines up to the last one delivered are dropped, counting
 * lines that share the boundary timestamp. Pure and synchronous.
 */
export class TimestampedLines {
  private pending = Buffer.alloc(0);
  /** Sortable key and raw text of the last delivered timestamp. */
  private lastKey: string | undefined;
  private lastRaw: string | undefined;
  /** Lines delivered with the last timestamp. */
  private deliveredAtLast = 0;
  /** Lines seen at the last timestamp during the current connection. */
  private seenAtLast = 0;

  /** The timestamp to resume from (`sinceTime`), once a line was delivered. */
  get resumeFrom(): string | undefined {
    return this.lastRaw;
  }

  /** Starts a new connection: partial input of the previous one is discarded (it will be sent again). */
  reconnect(): void {
    this.pending = Buffer.alloc(0);
    this.seenAtLast = 0;
  }

  /** Feeds bytes; returns the text of the new complete lines, timestamps removed. */
  push(chunk: Buffer): Buffer {
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    let start = 0;
    for (let newline = data.indexOf(10, start); newline !== -1; newline = data.indexOf(10, start)) {
      const line = this.accept(data.subarray(start, newline + 1));
      if (line !== undefined) out.push(line);
      start = newline + 1;
    }
    this.pending = Buffer.from(data.subarray(start));
    return Buffer.concat(out);
  }

  /** At the clean end of the log: the last line if it had no newline. */
  flush(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest.length === 0 ? rest : (this.accept(rest) ?? Buffer.alloc(0));
  }

  private accept(line: Buffer): Buffer | undefined {
    const space = line.indexOf(32);
    const raw = space === -1 ? undefined : line.subarray(0, space).toString('latin1');
    const key = raw === undefined ? undefined : timestampKey(raw);
    if (key === undefined || raw === undefined) return line; // no timestamp: nothing to de-duplicate by
    const text = line.subarray(space + 1);
    if (this.lastKey !== undefined && key < this.lastKey) return undefined;
    if (key === this.lastKey) {
      this.seenAtLast += 1;
      if (this.seenAtLast <= this.deliveredAtLast) return undefined;
      this.deliveredAtLast += 1;
      return text;
    }
    this.lastKey = key;
    this.lastRaw = raw;
    this.deliveredAtLast = 1;
    this.seenAtLast = 1;
    return text;
  }
}

/** An RFC 3339 UTC timestamp as a string that sorts by time (fraction padded to 9 digits). */
export function timestampKey(timestamp: string): string | undefined {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(timestamp);
  if (match === null) return undefined;
  return `${match[1]}.${(match[2] ?? '').padEnd(9, '0')}`;
}
