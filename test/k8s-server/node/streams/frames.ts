/** One line of a Docker log or attach stream: 1 stdout, 2 stderr. */
export interface Frame {
  stream: 1 | 2;
  data: Buffer;
}

/**
 * Content bytes of a log record without newline: Docker's json-file driver (like a
 * kubelet) cuts a long line into records of this size, each with its own timestamp.
 */
export const LOG_RECORD_BYTES = 16 * 1024;
/** A timestamped TTY log record's timestamp and space come within this many bytes. */
const MAX_STAMP_BYTES = 64;
const HEADER_BYTES = 8;

/**
 * Splits Docker's output into frames: the 8-byte multiplexed header format when the
 * container has no TTY, else raw bytes. With `splitLines` (logs), raw TTY output is read
 * as Docker's timestamped log records ("<timestamp> <content>"): a record ends at its
 * newline or after {@link LOG_RECORD_BYTES} content bytes, so the timestamp of every
 * record of a long line is found, and newline-less output is emitted as it comes.
 *
 * Linear in the input: every byte is looked at once, and a frame or record split across
 * chunks is joined once, when complete. Frames are views of the pushed chunks (no copy)
 * whenever they fit in one.
 */
export class DockerFrames {
  /** Pieces of the incomplete frame header, frame body or TTY record, and their total length. */
  private pieces: Buffer[] = [];
  private pieceBytes = 0;
  /** Multiplexed: stream and body length of the frame being read, once its header is complete. */
  private frame: { stream: 1 | 2; size: number } | undefined;
  /** TTY log records: where the content of the record being read starts, once its timestamp was read. */
  private contentStart: number | undefined;

  constructor(private readonly tty: boolean, private readonly onFrame: (frame: Frame) => void, private readonly splitLines = true) {}

  push(chunk: Buffer): void {
    if (!this.tty) return this.pushMultiplexed(chunk);
    if (this.splitLines) return this.pushRecords(chunk);
    if (chunk.length) this.onFrame({ stream: 1, data: chunk });
  }

  /** Emits what is left (a last TTY record without newline); an incomplete multiplexed frame is dropped. */
  flush(): void {
    if (this.tty && this.pieceBytes > 0) this.onFrame({ stream: 1, data: this.takePieces() });
    this.pieces = [];
    this.pieceBytes = 0;
    this.frame = undefined;
    this.contentStart = undefined;
  }

  private pushMultiplexed(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.frame === undefined) {
        let header: Buffer;
        if (this.pieceBytes === 0 && chunk.length - pos >= HEADER_BYTES) {
          header = chunk.subarray(pos, pos + HEADER_BYTES);
          pos += HEADER_BYTES;
        } else {
          pos = this.collect(chunk, pos, HEADER_BYTES);
          if (this.pieceBytes < HEADER_BYTES) return;
          header = this.takePieces();
        }
        this.frame = { stream: header[0] === 2 ? 2 : 1, size: header.readUInt32BE(4) };
      }
      const { stream, size } = this.frame;
      if (this.pieceBytes === 0 && chunk.length - pos >= size) {
        this.frame = undefined;
        this.onFrame({ stream, data: chunk.subarray(pos, pos + size) });
        pos += size;
        continue;
      }
      pos = this.collect(chunk, pos, size);
      if (this.pieceBytes < size) return;
      this.frame = undefined;
      this.onFrame({ stream, data: this.takePieces() });
    }
  }

  private pushRecords(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.contentStart === undefined) {
        // The timestamp: up to the first space (a newline first means a record without one).
        const window = chunk.subarray(pos, pos + Math.max(1, MAX_STAMP_BYTES - this.pieceBytes));
        const space = window.indexOf(0x20);
        const newline = window.indexOf(0x0a);
        if (newline !== -1 && (space === -1 || newline < space)) {
          pos = this.collect(chunk, pos, this.pieceBytes + newline + 1);
          this.onFrame({ stream: 1, data: this.takePieces() });
        } else if (space !== -1) {
          pos = this.collect(chunk, pos, this.pieceBytes + space + 1);
          this.contentStart = this.pieceBytes;
        } else {
          pos = this.collect(chunk, pos, this.pieceBytes + window.length);
          if (this.pieceBytes >= MAX_STAMP_BYTES) this.contentStart = 0;
        }
        continue;
      }
      const room = LOG_RECORD_BYTES - (this.pieceBytes - this.contentStart);
      const newline = chunk.subarray(pos, pos + room).indexOf(0x0a);
      const end = newline === -1 ? Math.min(chunk.length, pos + room) : pos + newline + 1;
      pos = this.collect(chunk, pos, this.pieceBytes + (end - pos));
      if (newline !== -1 || this.pieceBytes - this.contentStart >= LOG_RECORD_BYTES) {
        this.contentStart = undefined;
        this.onFrame({ stream: 1, data: this.takePieces() });
      }
    }
  }

  /** Adds bytes from `pos` until the pieces hold `total` bytes (or the chunk ends); returns the new position. */
  private collect(chunk: Buffer, pos: number, total: number): number {
    const end = Math.min(chunk.length, pos + (total - this.pieceBytes));
    if (end > pos) {
      this.pieces.push(chunk.subarray(pos, end));
      this.pieceBytes += end - pos;
    }
    return end;
  }

  /** The pieces as one buffer (joined once); empties them. */
  private takePieces(): Buffer {
    const data = this.pieces.length === 1 ? (this.pieces[0] as Buffer) : Buffer.concat(this.pieces, this.pieceBytes);
    this.pieces = [];
    this.pieceBytes = 0;
    return data;
  }
}
