/**
 * Process entry for `maverick`: run the CLI, let stdout and stderr drain, then exit with its
 * code. One-shot commands leave no handle open by design, but a stray timer must not keep a
 * finished command alive — and exiting before a pipe has taken all the output would cut it
 * short (a pipe holds 64 KiB; the rest waits in this process).
 */
import { main } from './main.js';
import { drained, quietOnClosedPipe } from './output.js';

quietOnClosedPipe(process.stdout);
quietOnClosedPipe(process.stderr);
const code = await main(process.argv.slice(2));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
