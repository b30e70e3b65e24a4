/**
 * Calls `probe` every `intervalMs` until it returns something other than `undefined` or
 * `false`, and resolves with that; rejects after `timeoutMs`, naming `what` it waited for.
 * The one polling helper of the tests: wait on an event where the engine offers one, poll
 * (with a generous deadline) only where it does not.
 */
export async function eventually<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs).unref());
  }
}
