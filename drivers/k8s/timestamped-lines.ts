/**
 * Parsing of `timestamps=true` log output ("<RFC3339Nano> <line>\n") with de-duplication
 * across reconnects: a follow that resumes with `sinceTime` gets lines again from that
 * instant (or its whole second); lines up to the last one delivered are dropped, counting
 * lines that share the boundary timestamp. Pure and synchronous.
 *
 * Linear in the input: bytes are scanned once, a record's pieces are joined once (a record
 * within one chunk is a view of it, not a copy). Kubelets
 * (and Docker) split a long line into records of {@link RECORD_BYTES} without newline,
 * each with its own timestamp: such a record is delivered as soon as it is complete, so
 * long newline-less output streams, and a reconnect resumes exactly at a record boundary.
 * Limit: a server that does not split long lines gets them delivered in pieces of that
 * size too, but a reconnect in the middle of such a line may repeat or drop the part of
 * the line after its first piece (only the first piece carries the timestamp).
 */

/** Content bytes of a line record without newline (the kubelet's and Docker's split size). */
export const RECORD_BYTES = 16 * 1024;
/** The timestamp and its space come within this many bytes, or the record has none. */
const MAX_HEAD_BYTES = 64;
const NEWLINE = Buffer.from('\n');

export class TimestampedLines {
  /** Pieces of the record being read, and their total length. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Offset of the record's content (after "<timestamp> ") once found. */
  private contentStart: number | undefined;
  /** Sortable key and raw text of the last delivered timestamp. */
  private lastKey: string | undefined;
  private lastRaw: string | undefined;
  /** Lines delivered with the last timestamp. */
  private deliveredAtLast = 0;
  /** Lines seen at the last timestamp during the current connection. */
  private seenAtLast = 0;
  /** The last record filled {@link RECORD_BYTES} (a newline right after it ends its line). */
  private afterFullRecord = false;
  /** Whether the last record was delivered (not a duplicate). */
  private lastRecordDelivered = false;
  /**
   * The newest delivered record was a full one whose newline has not come yet: a connection
   * that broke between the two sends that record again, as a duplicate, and then the newline.
   */
  private newlineOwed = false;
  /** The last record was the newest delivered one, sent again after a reconnect. */
  private lastRecordWasNewest = false;

  /** The timestamp to resume from (`sinceTime`), once a line was delivered. */
  get resumeFrom(): string | undefined {
    return this.lastRaw;
  }

  /** Starts a new connection: partial input of the previous one is discarded (it will be sent again). */
  reconnect(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.contentStart = undefined;
    this.seenAtLast = 0;
    this.afterFullRecord = false;
  }

  /** Feeds bytes; returns the text of the new complete lines and line records, timestamps removed. */
  push(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let pos = 0;
    // The current record's first byte in this chunk (earlier bytes of it are in `pending`).
    let start = 0;
    // The first newline at or after `pos` (-1: none left in the chunk); searched once per
    // newline, so newline-less output is scanned once however many records it holds.
    let newline = -2;
    const recordBytes = (): number => this.pendingBytes + (pos - start);
    const completeAt = (end: number): void => {
      const piece = chunk.subarray(start, end);
      pos = end;
      start = end;
      this.complete(out, this.pending.length === 0 ? piece : Buffer.concat([...this.pending, piece]));
    };
    while (pos < chunk.length) {
      if (this.afterFullRecord) {
        this.afterFullRecord = false;
        // A line of exactly one record's length: its newline follows the record.
        const owed = this.newlineOwed && (this.lastRecordDelivered || this.lastRecordWasNewest);
        this.newlineOwed = false;
        if (chunk[pos] === 10) {
          pos += 1;
          start = pos;
          if (this.lastRecordDelivered || owed) out.push(NEWLINE);
          continue;
        }
      }
      if (this.contentStart === undefined) {
        // The timestamp ends at the first space; a newline first means a line without one.
        const limit = Math.min(chunk.length, pos + Math.max(1, MAX_HEAD_BYTES - recordBytes()));
        let at = pos;
        while (at < limit && chunk[at] !== 32 && chunk[at] !== 10) at += 1;
        if (at < limit && chunk[at] === 10) completeAt(at + 1);
        else if (at < limit) {
          pos = at + 1;
          this.contentStart = recordBytes();
        } else {
          pos = limit;
          if (recordBytes() >= MAX_HEAD_BYTES) this.contentStart = 0; // no timestamp
        }
        continue;
      }
      const room = RECORD_BYTES - (recordBytes() - this.contentStart);
      if (newline !== -1 && newline < pos) newline = chunk.indexOf(10, pos);
      if (newline !== -1 && newline < pos + room) completeAt(newline + 1);
      else {
        pos = Math.min(chunk.length, pos + room);
        // A full record is delivered at once: the next bytes may not come for a long time.
        if (recordBytes() - this.contentStart >= RECORD_BYTES) {
          completeAt(pos);
          this.afterFullRecord = true;
          if (this.lastRecordDelivered) this.newlineOwed = true;
        }
      }
    }
    if (pos > start) {
      this.pending.push(chunk.subarray(start, pos));
      this.pendingBytes += pos - start;
    }
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }

  /** At the clean end of the log: the last line if it had no newline. */
  flush(): Buffer {
    const out: Buffer[] = [];
    if (this.pendingBytes > 0) this.complete(out, this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending));
    return Buffer.concat(out);
  }

  /** Ends the record being read: `record` is all of it. */
  private complete(out: Buffer[], record: Buffer): void {
    // The timestamp's space, when the record has one (found while reading it).
    const space = this.contentStart === undefined || this.contentStart === 0 ? -1 : this.contentStart - 1;
    this.pending = [];
    this.pendingBytes = 0;
    this.contentStart = undefined;
    const text = this.accept(record, space);
    this.lastRecordDelivered = text !== undefined;
    if (text !== undefined && text.length > 0) out.push(text);
  }

  private accept(line: Buffer, space: number): Buffer | undefined {
    const raw = space === -1 ? undefined : line.toString('latin1', 0, space);
    const key = raw === undefined ? undefined : timestampKey(raw);
    if (key === undefined || raw === undefined) return line; // no timestamp: nothing to de-duplicate by
    const text = line.subarray(space + 1);
    if (this.lastKey !== undefined && key < this.lastKey) return undefined;
    this.lastRecordWasNewest = false;
    if (key === this.lastKey) {
      this.seenAtLast += 1;
      this.lastRecordWasNewest = this.seenAtLast === this.deliveredAtLast;
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
