/** A terminal size as the resize channel carries it: client-go's `remotecommand.TerminalSize`. */
export interface TerminalSize {
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
}

/** `uint16` in Go: a size outside it fails the decode. */
const MAX_SIDE = 65_535;

/**
 * Reads channel 4 (resize) as the kubelet does: one JSON stream, not one object per frame.
 * client-go writes each size with a `json.Encoder` (`{"Width":80,"Height":24}` and a newline;
 * tools/remotecommand v3.go `handleResizes`; the fields have no JSON tags, so the keys are the
 * Go names), and the kubelet decodes the stream with a `json.Decoder` (kubelet
 * pkg/cri/streaming/remotecommand/httpstream.go `handleResizeEvents`), so an object may be split
 * across frames or several may share one. Keys match case-insensitively (encoding/json), so
 * client-node's `{"width":…,"height":…}` is read too; other keys are ignored. The first value
 * that does not decode (not an object, not JSON, a side that is no uint16) ends the loop there:
 * later sizes are not read, as `handleResizeEvents` breaks out on a decode error.
 */
export class ResizeDecoder {
  private pending = '';
  private broken = false;

  constructor(private readonly onSize: (size: TerminalSize) => void) {}

  push(data: Buffer): void {
    if (this.broken) return;
    this.pending += data.toString('utf8');
    for (;;) {
      const start = this.pending.search(/\S/);
      if (start === -1) {
        this.pending = '';
        return;
      }
      if (this.pending[start] !== '{') return this.fail();
      const end = objectEnd(this.pending, start);
      if (end === -1) return;
      const text = this.pending.slice(start, end);
      this.pending = this.pending.slice(end);
      const size = parseSize(text);
      if (!size) return this.fail();
      this.onSize(size);
    }
  }

  private fail(): void {
    this.broken = true;
    this.pending = '';
  }
}

/** Index just past the object starting at `start`, or -1 while it is incomplete. */
function objectEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i += 1) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function parseSize(text: string): TerminalSize | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const size: TerminalSize = { width: 0, height: 0 };
  for (const [key, side] of Object.entries(value)) {
    const field = key.toLowerCase();
    if (field !== 'width' && field !== 'height') continue;
    if (side === null) continue;
    if (typeof side !== 'number' || !Number.isInteger(side) || side < 0 || side > MAX_SIDE) return undefined;
    size[field] = side;
  }
  return size;
}

/**
 * Applies sizes to the runtime one at a time, in the order they came, as the kubelet's
 * `HandleResizing` does (one goroutine reading the resize channel and calling the runtime for
 * each size in turn; a size with a side below 1 is skipped: kubelet pkg/kubelet/container/
 * helpers.go `HandleResizing`). Order matters: `kubectl attach` and `kubectl run -it` send the
 * size plus one and then the size itself to make the program redraw (kubectl pkg/cmd/attach
 * attach.go `Run`, "fake resizing +1 and then back to normal"), so two concurrent engine calls
 * could leave the terminal one cell too large. Sizes wait until `start()`: the engine can resize
 * an exec only once it runs (the kubelet's Docker runtime held them back until the exec had
 * started: pkg/kubelet/dockershim/exec.go `NativeExecHandler.ExecInContainer`). A failing call
 * (the process just ended) is ignored, as the kubelet ignores the runtime's answer.
 */
export class ResizeQueue {
  private chain: Promise<void>;
  private release!: () => void;
  private stopped = false;

  constructor(private readonly resize: (size: TerminalSize) => Promise<unknown>) {
    this.chain = new Promise<void>((resolve) => (this.release = resolve));
  }

  /** Queues a size. */
  push(size: TerminalSize): void {
    if (size.width < 1 || size.height < 1) return;
    this.chain = this.chain.then(async () => {
      if (this.stopped) return;
      await this.resize(size).catch(() => undefined);
    });
  }

  /** The process runs: queued and later sizes reach the engine. */
  start(): void {
    this.release();
  }

  /** Resolves once every size queued so far was applied or dropped (after `start` or `stop`). */
  settled(): Promise<void> {
    return this.chain;
  }

  /** The session ended: sizes still queued are dropped. */
  stop(): void {
    this.stopped = true;
    this.release();
  }
}
