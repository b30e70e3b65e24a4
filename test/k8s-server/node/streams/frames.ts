/** One line of a Docker log or attach stream: 1 stdout, 2 stderr. */
export interface Frame {
  stream: 1 | 2;
  data: Buffer;
}

/**
 * Splits Docker's output into frames: the 8-byte multiplexed header format when
 * the container has no TTY, else raw bytes (split into lines for logs).
 */
export class DockerFrames {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly tty: boolean, private readonly onFrame: (frame: Frame) => void, private readonly splitLines = true) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    if (this.tty) {
      if (!this.splitLines) {
        const data = this.pending;
        this.pending = Buffer.alloc(0);
        if (data.length) this.onFrame({ stream: 1, data });
        return;
      }
      let newline: number;
      while ((newline = this.pending.indexOf(0x0a)) >= 0) {
        this.onFrame({ stream: 1, data: this.pending.subarray(0, newline + 1) });
        this.pending = this.pending.subarray(newline + 1);
      }
      return;
    }
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const type = this.pending[0];
      const data = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      this.onFrame({ stream: type === 2 ? 2 : 1, data });
    }
  }

  /** Emits what is left (a last line without newline). */
  flush(): void {
    if (this.tty && this.pending.length) this.onFrame({ stream: 1, data: this.pending });
    this.pending = Buffer.alloc(0);
  }
}
