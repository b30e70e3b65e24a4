/**
 * The CRI container log format, as containerd writes it and the kubelet reads it:
 * `<RFC 3339 nano timestamp> <stdout|stderr> <F|P> <content>\n` (containerd
 * internal/cri/io/logger.go redirectLogs; kubelet pkg/kubelet/kuberuntime/logs/logs.go
 * parseCRILog). `F` ends a line (the reader adds the newline back), `P` is part of one.
 */

/** Content bytes of one record at most: containerd's max_container_log_line_size default. */
export const MAX_RECORD_CONTENT = 16 * 1024;

export type CriStream = 'stdout' | 'stderr';

/** One parsed record: views of the file's bytes. */
export interface CriRecord {
  /** The timestamp as written (RFC 3339, fraction without trailing zeros). */
  stamp: string;
  stream: CriStream;
  /** `F` (the content ends a line) or `P` (part of a line). */
  full: boolean;
  content: Buffer;
}

const hrtimeBase = process.hrtime.bigint();
const epochBase = BigInt(Date.now()) * 1_000_000n;
let lastNanos = 0n;

/** Nanoseconds since the epoch, never going back (records of one file stay in time order). */
export function nowNanos(): bigint {
  const nanos = epochBase + (process.hrtime.bigint() - hrtimeBase);
  lastNanos = nanos > lastNanos ? nanos : lastNanos;
  return lastNanos;
}

/** RFC 3339 with nanoseconds, trailing zeros of the fraction cut (Go's time.RFC3339Nano). */
export function rfc3339Nano(nanos: bigint): string {
  const seconds = new Date(Number(nanos / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
  const fraction = String(nanos % 1_000_000_000n).padStart(9, '0').replace(/0+$/, '');
  return `${seconds}${fraction ? `.${fraction}` : ''}Z`;
}

/** The kubelet's output timestamp: always nine fraction digits (RFC3339NanoFixed, kubelet logs.go timeFormatOut). */
export function rfc3339NanoFixed(stamp: string): string {
  const dot = stamp.indexOf('.');
  if (dot === -1) return `${stamp.slice(0, -1)}.000000000Z`;
  return `${stamp.slice(0, dot)}.${stamp.slice(dot + 1, -1).padEnd(9, '0')}Z`;
}

/** Parses one record (without its trailing newline); undefined for a malformed one (the kubelet skips it). */
export function parseRecord(line: Buffer): CriRecord | undefined {
  const first = line.indexOf(0x20);
  if (first === -1) return undefined;
  const second = line.indexOf(0x20, first + 1);
  if (second === -1) return undefined;
  const stream = line.toString('latin1', first + 1, second);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = line[second + 1];
  if ((tag !== 0x46 && tag !== 0x50) || (line.length > second + 2 && line[second + 2] !== 0x20)) return undefined;
  return { stamp: line.toString('latin1', 0, first), stream, full: tag === 0x46, content: line.subarray(Math.min(line.length, second + 3)) };
}
