/**
 * A command that reports what it was started with, for the injection tests: its real
 * working directory, the argument count and each argument (each ended by NUL), \x01, then
 * its environment exactly as exec handed it over (/proc/$$/environ, names a shell would
 * drop included). The shell by absolute path: the host's busybox would run a bare `sh` as
 * its own applet in the same process, whose environ is not what `env` passed; and `cat` is
 * not the last command, which busybox's shell would exec in its own place with the shell's
 * rebuilt environment.
 */
export const PROBE: readonly string[] = ['/bin/sh', '-c', 'd=$(pwd -P; printf x); printf "%s\\0" "${d%??}" "$#" "$@"; printf "\\1"; cat /proc/$$/environ; exit 0', 'probe'];

/** What {@link PROBE} reported. */
export interface Probed {
  cwd: string;
  args: string[];
  env: Map<string, string>;
}

/** Reads {@link PROBE}'s output. */
export function parseProbe(out: string): Probed {
  const split = out.indexOf('\u0001');
  const head = (split === -1 ? out : out.slice(0, split)).split('\0');
  const env = new Map<string, string>();
  for (const entry of (split === -1 ? '' : out.slice(split + 1)).split('\0')) {
    const at = entry.indexOf('=');
    if (at > 0) env.set(entry.slice(0, at), entry.slice(at + 1));
  }
  return { cwd: head[0] ?? '', args: head.slice(2, 2 + Number(head[1])), env };
}
