/**
 * Counters of the Semtech UDP backend (monotonic, for metrics and `maverick doctor`).
 */
import type { TxAckStatus } from '../../proto/radio.js';

export function createSemtechUdpCounters() {
  return {
    datagramsReceived: 0,
    datagramsPushData: 0,
    datagramsPullData: 0,
    datagramsTxAck: 0,
    /** PUSH_ACK / PULL_ACK / PULL_RESP arriving at a server: only a confused peer sends these. */
    datagramsUnexpectedType: 0,
    malformedDatagrams: 0,
    /** Datagrams naming a gateway EUI not on the allowlist (dropped unanswered). */
    datagramsUnknownGateway: 0,
    /** Datagrams naming a known gateway from another address while its host is alive (dropped). */
    datagramsForeignSource: 0,
    rxpkReceived: 0,
    rxpkForwarded: 0,
    rxpkBadCrc: 0,
    rxpkNoCrc: 0,
    /** Entries dropped because a field was missing or wrong (their siblings still went through). */
    rxpkDropped: 0,
    statReceived: 0,
    statInvalid: 0,
    pushAcksSent: 0,
    pullAcksSent: 0,
    pullRespSent: 0,
    /** TX_ACKs whose token matched no pending downlink (late, duplicated or spoofed). */
    txAckUnmatched: 0,
    txAckOk: 0,
    txAckTooLate: 0,
    txAckTooEarly: 0,
    txAckCollisionPacket: 0,
    txAckCollisionBeacon: 0,
    txAckTxFreq: 0,
    txAckTxPower: 0,
    txAckGpsUnlocked: 0,
    txNoRoute: 0,
    txTimeout: 0,
    txUnsupported: 0,
    /** v1 forwarders never send TX_ACK: their downlinks resolve OK once handed to the socket. */
    txSentWithoutAckV1: 0,
    sendErrors: 0,
    listenerErrors: 0,
    gatewaysEvicted: 0,
  };
}

export type SemtechUdpCounters = ReturnType<typeof createSemtechUdpCounters>;

/** The counters' own names, in a fixed order. */
export const SEMTECH_UDP_COUNTER_KEYS = Object.keys(
  createSemtechUdpCounters(),
) as (keyof SemtechUdpCounters)[];

/**
 * What the backend's counters() reports, in a fixed order: the counters, then the gauges
 * `gatewaysKnown` and `txPending`. The Semtech UDP thread sends the values as a plain array in
 * this order (readCounters), not as a record.
 */
export const SEMTECH_UDP_COUNTER_NAMES: readonly string[] = [
  ...SEMTECH_UDP_COUNTER_KEYS,
  'gatewaysKnown',
  'txPending',
];

/**
 * The counters and the two gauges in SEMTECH_UDP_COUNTER_NAMES order, written over `out` without
 * allocating; true when any value differed from `out`'s.
 */
export function readCounterValues(
  counters: SemtechUdpCounters,
  gatewaysKnown: number,
  txPending: number,
  out: number[],
): boolean {
  let changed = false;
  const keys = SEMTECH_UDP_COUNTER_KEYS;
  for (let i = 0; i <= keys.length + 1; i++) {
    const value =
      i < keys.length
        ? counters[keys[i] as keyof SemtechUdpCounters]
        : i === keys.length
          ? gatewaysKnown
          : txPending;
    if (out[i] !== value) {
      out[i] = value;
      changed = true;
    }
  }
  return changed;
}

const TX_STATUS_COUNTER: Record<TxAckStatus, keyof SemtechUdpCounters> = {
  OK: 'txAckOk',
  TOO_LATE: 'txAckTooLate',
  TOO_EARLY: 'txAckTooEarly',
  COLLISION_PACKET: 'txAckCollisionPacket',
  COLLISION_BEACON: 'txAckCollisionBeacon',
  TX_FREQ: 'txAckTxFreq',
  TX_POWER: 'txAckTxPower',
  GPS_UNLOCKED: 'txAckGpsUnlocked',
  NO_ROUTE: 'txNoRoute',
  TIMEOUT: 'txTimeout',
  UNSUPPORTED: 'txUnsupported',
};

export function countTxStatus(counters: SemtechUdpCounters, status: TxAckStatus): void {
  counters[TX_STATUS_COUNTER[status]]++;
}

/** The limiter moved to proto/log.ts so the brokers can share it; re-exported for existing imports. */
export { WarnLimiter } from '../../proto/log.js';
