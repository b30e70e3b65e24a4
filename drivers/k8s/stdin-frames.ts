/**
 * Exec input where the server has no way to end stdin but closing the socket (subprotocols
 * below `v5.channel.k8s.io`, i.e. Kubernetes 1.28 and 1.29 without
 * `TranslateStreamCloseWebsocketRequests`). Closing the socket would lose the command's
 * output and exit status, so the input's end travels inside the input instead: the driver
 * sends it in frames and the command runs under a wrapper that unframes it into a pipe to
 * the command, which reads EOF at the end frame.
 *
 * Frame: the payload's length in decimal, `\n`, then exactly that many bytes. `0\n` ends the
 * input. A frame is never empty otherwise.
 */

/** The end frame: the command's stdin reads EOF after it. */
export const END_FRAME: Buffer = Buffer.from('0\n');

/** One frame carrying `payload` (not empty: an empty payload would read as the end). */
export function frame(payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${payload.length}\n`), payload]);
}

/**
 * The unframing reader (`sh -c READER`): its stdin is the exec's stdin, its stdout the pipe
 * to the command. It first writes its own PID on a line, so the other side can stop it when
 * the command ends before the input does. The shell's `read` takes each length line byte by
 * byte (it never reads past the newline, as `while read` on shared input requires); `dd`
 * copies the payload. `iflag=fullblock` (GNU coreutils, busybox) makes one block exactly
 * `n` bytes however the pipe hands them over; a `dd` without it (POSIX has no `iflag`) reads
 * one byte per block instead, exact but slower. A `dd` that fails (the command closed its
 * stdin: EPIPE) ends the reader; the input still on its way is then left unread.
 */
const READER_SCRIPT = [
  'echo "$$"',
  'if dd if=/dev/null of=/dev/null iflag=fullblock 2>/dev/null; then',
  '  copy() { dd bs="$1" count=1 iflag=fullblock 2>/dev/null; }',
  'else',
  '  copy() { dd ibs=1 obs=65536 count="$1" 2>/dev/null; }',
  'fi',
  'while IFS= read -r n; do',
  '  case $n in 0) exit 0 ;; ""|*[!0-9]*) exit 1 ;; esac',
  '  copy "$n" || exit 1',
  'done',
  'exit 1',
].join('\n');

/**
 * The wrapper (`sh -c WRAPPER drivetrain-stdin READER command…`). The command side reads the
 * reader's PID line, then runs the command with `exec` in a subshell (always a program from
 * PATH, as an unwrapped exec runs it: never one of the shell's builtins such as `exit`).
 * When the command ends it stops the reader, which may still be waiting for input that will
 * not come (a pipeline lasts until all its members end), and exits with the command's status
 * (a command killed by a signal: 128 + the signal's number, as the runtime reports it
 * unwrapped). The shells' own stderr goes to /dev/null (a shell reports a child killed by a
 * signal there: "Killed"); the exec's stderr waits on fd 3 and is the command's fd 2 alone
 * (fd 3 is closed for the command and for the reader, which must not hold the exec's output
 * open).
 */
const WRAPPER_SCRIPT = [
  'reader=$1',
  'shift',
  'exec 3>&2 2>/dev/null',
  'sh -c "$reader" drivetrain-stdin-reader 3>&- | {',
  '  IFS= read -r pid',
  '  ( exec "$@" 2>&3 3>&- )',
  '  status=$?',
  '  kill "$pid"',
  '  exit "$status"',
  '}',
].join('\n');

/**
 * The argv that runs `command` (argv, never joined into a shell string: it reaches the
 * command as positional parameters) with its stdin unframed from the exec's stdin. Needs
 * `sh` and `dd` in the container.
 */
export function framedCommand(command: readonly string[]): string[] {
  return ['sh', '-c', WRAPPER_SCRIPT, 'drivetrain-stdin', READER_SCRIPT, ...command];
}
