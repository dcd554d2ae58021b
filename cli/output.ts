/** Making sure what the CLI printed reaches the reader before the process exits. */
import type { Writable } from 'node:stream';

/** Resolves once everything written to `stream` so far was handed to the OS (or the reader went away). */
export function drained(stream: Writable): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve();
  // Write callbacks run in order: the empty write's runs after every earlier chunk is flushed.
  return new Promise((resolve) => stream.write('', () => resolve()));
}

/**
 * `maverick uplinks list | head` closes the pipe early: that is the reader's choice, not an
 * error of ours, so EPIPE ends the output quietly instead of crashing with a stack trace.
 */
export function quietOnClosedPipe(stream: Writable): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') {
      stream.destroy();
      return;
    }
    throw err;
  });
}
