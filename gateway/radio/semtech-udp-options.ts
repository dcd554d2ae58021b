/**
 * Settings of the Semtech UDP backend, whether it reads its socket on the
 * event loop (semtech-udp.ts) or on a thread of its own (semtech-udp-thread.ts).
 */
import type { Logger } from '../../proto/log.js';

export interface SemtechUdpBackendOptions {
  /** Address to bind; IPv4 or IPv6 literal. Default 127.0.0.1 (the forwarder runs on the same Pi). */
  host?: string;
  /** UDP port; 0 picks a free one (tests). Default 1700, the forwarder's usual serv_port_up/down. */
  port?: number;
  logger?: Logger;
  /** How long schedule() waits for the TX_ACK of a PULL_RESP before resolving TIMEOUT. */
  txAckTimeoutMs?: number;
  /** Most gateways remembered at once. */
  maxGateways?: number;
  /**
   * SO_RCVBUF asked for at bind (bytes; default 8 MiB). A forwarder never
   * resends a PUSH_DATA, so a datagram the kernel drops because the buffer is
   * full while the event loop is busy is an uplink lost. Linux caps the value
   * at net.core.rmem_max; what the kernel granted is logged.
   */
  receiveBufferBytes?: number;
  /**
   * Gateway EUIs whose datagrams are taken (the config's gateway.id plus radio.udp.gateways);
   * anything else is counted, logged at a limited rate and dropped unanswered. Absent: any EUI
   * (library use and tests; `maverick run` always passes the list).
   */
  allowedGateways?: readonly string[];
  /** A gateway's host counts as alive this long after its last datagram (default 35 s). */
  routeAliveMs?: number;
  /** Clock for route liveness and reception times (tests inject one). */
  now?: () => number;
  /**
   * For the receive thread (semtech-udp-thread-worker.ts): a PUSH_DATA that passed every check
   * and carries uplinks or a stat is handed over as its bytes (with the count of uplinks in it)
   * instead of being emitted as `uplink` and `stats` events; the event loop decodes it again
   * (readForwardedPushData). Counters, warnings and routes are as without it.
   */
  forwardPushData?: (datagram: Buffer, receivedAtMs: number, uplinks: number) => void;
}
