/** Bounded waits for the radio-backend suites: every wait has a deadline and names what it waited for. */
import type { RadioBackend, RadioBackendState } from '../../proto/radio.js';
import { waitFor } from './wait.js';

export { waitFor };

export function waitState(b: RadioBackend, state: RadioBackendState, ms = 10_000): Promise<void> {
  if (b.state === state) return Promise.resolve();
  return waitFor<void>(
    (done) => {
      const on = (s: { state: RadioBackendState }) => {
        if (s.state !== state) return;
        b.off('state', on);
        done();
      };
      b.on('state', on);
    },
    `state ${state}`,
    ms,
  );
}
