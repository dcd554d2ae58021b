/** Public surface of `maverick doctor`. */

export { stripJsonComments } from './check-forwarder-conf.js';
export { formatReport, runDoctor } from './doctor.js';
export { checkForwarderConf, type ForwarderConfReport } from './forwarder-conf.js';
export { sniffSemtechUpstream } from './radio-probes.js';
export type {
  CheckResult,
  CheckStatus,
  CommandRunner,
  DoctorOptions,
  DoctorReport,
  SerialProbe,
} from './types.js';
