import { spawn } from 'node:child_process';
import { abortReason, anySignal } from './abort.js';
import { CredentialsError } from './errors.js';

/**
 * Docker's credential helper protocol (docker/docker-credential-helpers `client.Get`):
 * `docker-credential-<name> get` reads the server address on stdin and prints
 * `{"ServerURL","Username","Secret"}`; a user name of `<token>` means the secret is an
 * identity token (docker/cli `nativeStore`). A helper without credentials for the
 * address exits non-zero printing the protocol's fixed sentinel
 * `credentials not found in native keychain` (credentials/error.go), which docker/cli
 * reads as "anonymous" rather than as a failure — so do we.
 */

const NOT_FOUND_SENTINEL = 'credentials not found in native keychain';
const MAX_OUTPUT_BYTES = 1024 * 1024;

/** What a helper returned for one server address. */
export interface HelperCredentials {
  username?: string;
  password?: string;
  identityToken?: string;
}

/**
 * Runs `docker-credential-<helper> get` for `serverAddress`. Resolves `undefined` when the
 * helper has no credentials for it. A missing or failing helper is `CredentialsError`.
 */
export function getFromHelper(helper: string, serverAddress: string, options: { env: NodeJS.ProcessEnv; timeoutMs: number; source: string; signal?: AbortSignal | undefined }): Promise<HelperCredentials | undefined> {
  const program = `docker-credential-${helper}`;
  // A name with a path separator would run an arbitrary file instead of a program on PATH.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(helper)) {
    return Promise.reject(new CredentialsError(options.source, `${options.source} names the credential helper ${JSON.stringify(helper)}, which is not a program name; fix the config file or pass credentials explicitly`));
  }
  options.signal?.throwIfAborted();
  const signal = anySignal([options.signal], options.timeoutMs);
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env: options.env, stdio: ['pipe', 'pipe', 'pipe'], signal });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    let tooLong = false;
    const collect = (into: Buffer[]) => (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_OUTPUT_BYTES) into.push(chunk);
      else if (!tooLong) {
        tooLong = true;
        child.kill('SIGKILL');
      }
    };
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));
    // A helper that exits without reading its input must not fail the call with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(serverAddress);
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (options.signal?.aborted) return reject(abortReason(options.signal));
      if (signal.aborted) return reject(new CredentialsError(program, `the credential helper ${program} did not answer within ${options.timeoutMs} ms`, { cause: error }));
      if (error.code === 'ENOENT') {
        return reject(new CredentialsError(program, `${options.source} names the credential helper ${program}, which is not on PATH: install it, or pass credentials explicitly`, { cause: error }));
      }
      reject(new CredentialsError(program, `the credential helper ${program} could not run: ${error.message}`, { cause: error }));
    });
    child.once('close', (code) => {
      if (signal.aborted) return; // reported by 'error' (abort, timeout)
      if (tooLong) return reject(new CredentialsError(program, `the credential helper ${program} printed more than ${MAX_OUTPUT_BYTES} bytes`));
      const out = Buffer.concat(stdout).toString('utf8').trim();
      if (code !== 0) {
        if (out === NOT_FOUND_SENTINEL) return resolve(undefined);
        const said = out || Buffer.concat(stderr).toString('utf8').trim();
        return reject(new CredentialsError(program, `the credential helper ${program} failed (${code === null ? 'killed by a signal' : `exit code ${code}`})${said ? `: ${said.slice(0, 500)}` : ''}`));
      }
      try {
        resolve(parseHelperOutput(out, program));
      } catch (error) {
        reject(error);
      }
    });
  });
}

function parseHelperOutput(out: string, program: string): HelperCredentials | undefined {
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(out) as typeof parsed;
  } catch (error) {
    throw new CredentialsError(program, `the credential helper ${program} printed something other than JSON credentials`, { cause: error });
  }
  if (typeof parsed?.Secret !== 'string' || parsed.Secret === '') return undefined;
  if (parsed.Username === '<token>') return { identityToken: parsed.Secret };
  return { username: typeof parsed.Username === 'string' ? parsed.Username : '', password: parsed.Secret };
}
