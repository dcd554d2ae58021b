/** Public surface of the gateway metrics. */
export {
  type LinkState,
  Metrics,
  type MetricsOptions,
  type StatusSnapshot,
  type UplinkSeen,
} from './metrics.js';
export { type MetricsServer, type MetricsServerOptions, startMetricsServer } from './server.js';
