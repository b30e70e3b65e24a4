/**
 * Restores the newline that Docker 20.10's `local` log driver drops when it reads back a
 * line of 16 KiB or more.
 *
 * The engine's log copier (daemon/logger/copier.go) cuts a line longer than its 16 KiB
 * buffer into partial messages: full 16 KiB pieces, then a last piece holding the rest of
 * the line up to its newline, all carrying the first piece's timestamp; it strips every
 * newline and the driver adds it back on reading. The `local` driver stores the pieces
 * exactly (protobuf `bytes`, with the `last` flag), but its reader in 20.10 adds the
 * newline only to messages that are not partial, so the last piece comes back without
 * it. Output that ends without a newline is stored as a partial piece too (not last) and
 * rightly comes back without one.
 *
 * So, per stream: after one or more 16 KiB pieces (a full piece never holds a newline),
 * the next message with their timestamp ends the line. Ending in a newline, the engine
 * added it already (a fixed reader, or the `json-file` driver): nothing to do. Empty, it
 * can only be a last piece: the newline is added. Otherwise it was the last piece of a
 * line whose newline was dropped — or the rest of the output when the stream closed
 * without a newline. Any later message of the same stream proves the first (the copier
 * logs nothing after the end of its stream), so the newline is added before that
 * message; at the end of the log the two cannot be told apart and no newline is added.
 */
export class LineRepair {
  /** Timestamp of the full pieces seen last, while their line has not ended. */
  private pieceTimestamp: string | undefined;
  /** A last piece was delivered and the newline it may have lost is not decided yet. */
  private undecided = false;

  /** The engine copier's buffer: the size of every partial piece but the last. */
  static readonly PIECE_BYTES = 16 * 1024;

  /** The bytes to deliver for the next message of this stream, in order. */
  next(timestamp: string, payload: Buffer): Buffer[] {
    const out: Buffer[] = [];
    if (this.undecided) {
      out.push(NEWLINE);
      this.undecided = false;
    }
    if (payload.length === LineRepair.PIECE_BYTES && payload[payload.length - 1] !== NEWLINE_BYTE) {
      this.pieceTimestamp = timestamp;
    } else if (this.pieceTimestamp !== undefined && timestamp === this.pieceTimestamp) {
      this.pieceTimestamp = undefined;
      if (payload.length === 0) out.push(NEWLINE);
      else if (payload[payload.length - 1] !== NEWLINE_BYTE) this.undecided = true;
    } else {
      this.pieceTimestamp = undefined;
    }
    if (payload.length > 0) out.push(payload);
    return out;
  }
}

const NEWLINE_BYTE = 0x0a;
const NEWLINE = Buffer.from([NEWLINE_BYTE]);
