/**
 * The demo's satellite link: the gateway's Iridium SBD driver on one end of a
 * socat pty pair, the SBD modem emulator (AT command set, session latency,
 * modest loss, credits per 50 bytes) on the other. What reaches the emulated
 * Iridium gateway goes to the regional node's message intake, and its status
 * answers are queued as MT messages for the next session, as Iridium's
 * DirectIP delivery and MT queue do.
 */

import type { RegionalNode } from '../../regional/intake.js';
import type { OtherItemHandler } from '../../regional/transport/index.js';
import { RegionalMessageIntake } from '../../regional/transport/message-intake.js';
import type { FragmentReassembly } from '../../regional/transport/reassembly.js';
import { createPrng } from '../../simulator/device-random.js';
import { type SbdEmulatorCounters, SbdModemEmulator } from '../../simulator/sbd-modem.js';
import { openSerialLine } from './field.js';

/** The demo gateway's satellite budget: ten full 340-byte messages a day (68 RockBLOCK credits). */
export const DEMO_SATELLITE_DAILY_BYTES = 3400;

/** The emulated modem's IMEI: the sender the regional node sees. */
export const DEMO_MODEM_IMEI = '300234010753370';

export interface SatelliteSide {
  /** Where the gateway opens its modem. */
  hostPath: string;
  counters(): SbdEmulatorCounters;
  close(): Promise<void>;
}

export interface SatelliteSideOptions {
  node: RegionalNode;
  /** Items other than bundles (daily commitments), as the MQTT intake handles them. */
  onOther: OtherItemHandler;
  /** Shared with the MQTT intake so an item completed over IP drops its satellite partial. */
  reassembler: FragmentReassembly;
  seed: number;
  /** Real milliseconds per SBDIX session (a real one takes seconds; the demo's time runs fast). */
  latencyMs?: number;
  /** Share of MO and MT messages lost silently. */
  dropRate?: number;
  /** Share of sessions the modem reports failed. */
  failureRate?: number;
}

/** Undefined when socat is missing (no pty pair: the demo runs cellular only). */
export async function startSatelliteSide(options: SatelliteSideOptions): Promise<SatelliteSide | undefined> {
  // 9602/9603 talk 19200 8N1 (Iridium ISU AT Command Reference).
  const line = await openSerialLine('sbd', 19_200);
  if (!line) return undefined;
  // Without onOther a commitment that travels by satellite would be refused as an unknown item.
  const intake = new RegionalMessageIntake({
    node: options.node,
    reassembler: options.reassembler,
    onOther: options.onOther,
  });
  const random = createPrng(options.seed ^ 0x5bd);
  const emulator = new SbdModemEmulator(line.deviceSide, {
    deliver: (mo) => intake.handle(DEMO_MODEM_IMEI, mo),
    latencyMs: options.latencyMs ?? 40,
    dropRate: options.dropRate ?? 0.03,
    failureRate: options.failureRate ?? 0.03,
    random: random.next,
  });
  return {
    hostPath: line.pair.hostPath,
    counters: () => ({ ...emulator.counters }),
    async close() {
      emulator.close();
      const side = line.deviceSide;
      if (side.isOpen) await new Promise<void>((r) => side.close(() => r()));
      await line.pair.close();
    },
  };
}
