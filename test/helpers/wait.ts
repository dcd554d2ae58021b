/**
 * The one set of bounded waits for the test suites. Every wait has a deadline
 * and names what it waited for, so a slow machine makes a test slower, never
 * wrong, and a broken one fails with a message instead of hanging. Deadlines
 * are generous on purpose (CI shares two cores): they bound a failure, they
 * are not a performance claim.
 */
import { createConnection } from 'node:net';

const POLL_MS = 10;
const DEFAULT_MS = 20_000;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves once `check()` holds (polled); rejects after `ms`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  ms = DEFAULT_MS,
  what = 'condition',
): Promise<void> {
  await eventuallyValue(async () => ((await check()) ? true : undefined), ms, what);
}

/** Resolves with the first value `get()` returns other than undefined (polled); rejects after `ms`. */
export async function eventuallyValue<T>(
  get: () => T | undefined | Promise<T | undefined>,
  ms = DEFAULT_MS,
  what = 'a value',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${ms} ms`);
    await pause(POLL_MS);
  }
}

/** Resolves with what `register`'s callback is given first (an event); rejects after `ms`. */
export function waitFor<T>(register: (done: (v: T) => void) => void, what: string, ms = 10_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    register((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

/** Resolves once a TCP connection to host:port succeeds (a spawned server is listening); rejects after `ms`. */
export function waitForPort(port: number, ms = DEFAULT_MS, host = '127.0.0.1'): Promise<void> {
  const connects = () =>
    new Promise<boolean>((resolve) => {
      const socket = createConnection({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  return eventually(connects, ms, `${host}:${port} to accept connections`);
}
