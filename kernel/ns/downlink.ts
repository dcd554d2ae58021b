/**
 * Class A downlinks (LoRaWAN 1.0.4 §3.3): after an uplink, one frame to the
 * device through the gateway that heard it best, in RX1 (uplink tmst +
 * RxDelay, the region's RX1 frequency and DR offset) or, when the gateway
 * refuses that, in RX2 (one second later, on the session's RX2 frequency/DR).
 * The frame carries the ACK bit for a confirmed uplink, pending MAC commands
 * (FOpts, or FPort 0 when they need more than 15 bytes), and the next queued
 * application payload if it fits the window's data rate. The downlink frame
 * counter advances only once a gateway acknowledged the transmission.
 */
import type { Logger } from '../../proto/log.js';
import {
  type DataMType,
  encodeDataFrame,
  encodeMacCommands,
  type MacCommand,
  macCommandSize,
} from '../../proto/lorawan/index.js';
import { addTmst, type RadioBackend, type RxMetadata } from '../../proto/radio.js';
import type { Region } from '../../proto/regions/index.js';
import type { DownlinkQueue, QueuedDownlink } from './downlink-queue.js';
import { markRequestsSent } from './mac.js';
import type { TransmitResult, Transmitter, WindowPlan } from './transmitter.js';
import { type DeviceSession, hexToBytes, type PendingMacRequest } from './types.js';

export interface DataDownlinkRequest {
  backend: RadioBackend;
  region: Region;
  /** The session as stored after the uplink; updated in place when the downlink goes out. */
  session: DeviceSession;
  /** The receiver chosen to answer through (best SNR with a timed-downlink backend). */
  rx: RxMetadata;
  upDr: number;
  /** Set the ACK bit (confirmed uplink). */
  ack: boolean;
  /** MAC answers and requests to send, with the requests' bookkeeping. */
  mac: MacCommand[];
  macPending: PendingMacRequest[];
  /** Send even with nothing to say (ADRACKReq asks for any downlink). */
  force: boolean;
}

export interface DataDownlinkResult {
  /** True when a gateway acknowledged the frame. */
  sent: boolean;
  /** No frame was needed. */
  idle: boolean;
  fCntDown?: number;
  item?: QueuedDownlink;
  transmit?: TransmitResult;
  /** An application payload dropped because no data rate of this device can carry it. */
  dropped?: QueuedDownlink;
  /** The frame carried the planned MAC commands (their requests are now pending an answer). */
  macIncluded?: boolean;
}

interface BuiltFrame {
  phy: Uint8Array;
  item?: QueuedDownlink;
  macIncluded: boolean;
}

export class ClassAScheduler {
  constructor(
    private readonly transmitter: Transmitter,
    private readonly queue: DownlinkQueue,
    private readonly logger: Logger,
  ) {}

  async sendData(req: DataDownlinkRequest): Promise<DataDownlinkResult> {
    const { session, region, rx } = req;
    const rx1Dr = region.rx1DataRate(req.upDr, session.rx1DrOffset);
    let dropped: QueuedDownlink | undefined;
    const head = this.queue.peek(session.devEui);
    const largest = Math.max(
      region.dataRate(rx1Dr)?.maxPayload ?? 0,
      region.dataRate(session.rx2Dr)?.maxPayload ?? 0,
    );
    if (head && head.data.length > largest) {
      // It would wait forever: tell the application instead (ChirpStack drops such items too).
      this.queue.remove(session.devEui, head.id);
      dropped = head;
      this.logger.warn(
        { devEui: session.devEui, downlinkId: head.id, bytes: head.data.length, maxPayload: largest },
        'queued downlink is larger than the data rate allows; dropped',
      );
    }
    const item = this.queue.peek(session.devEui);
    if (!req.ack && req.mac.length === 0 && !item && !req.force) return { sent: false, idle: true, dropped };

    const fCntDown = session.nFCntDown;
    const delayUs = session.rxDelay * 1_000_000;
    const windows: { plan: Omit<WindowPlan, 'phyPayload'>; frame: BuiltFrame }[] = [];
    const rx1 = {
      window: 'rx1' as const,
      tmst: addTmst(rx.tmst, delayUs),
      frequencyHz: region.rx1Frequency(rx.frequencyHz),
      dr: rx1Dr,
    };
    const rx2 = {
      window: 'rx2' as const,
      tmst: addTmst(rx.tmst, delayUs + 1_000_000),
      frequencyHz: session.rx2FrequencyHz,
      dr: session.rx2Dr,
    };
    for (const plan of [rx1, rx2]) {
      windows.push({ plan, frame: this.buildFrame(req, plan.dr, fCntDown) });
    }
    const byWindow = new Map(windows.map((w) => [w.plan.window, w.frame]));
    const result = await this.transmitter.transmit(
      req.backend,
      rx.gatewayEui,
      region,
      windows.map((w) => ({ ...w.plan, phyPayload: w.frame.phy })),
    );
    if (!result.sent) return { sent: false, idle: false, transmit: result, dropped };

    const frame = byWindow.get(result.sent.window) as BuiltFrame;
    session.nFCntDown = fCntDown + 1;
    if (frame.macIncluded) markRequestsSent(session, req.macPending, new Date());
    if (frame.item) {
      // Unconfirmed payloads leave the queue now; confirmed ones stay until acknowledged.
      this.queue.markSent(session.devEui, frame.item.id);
      if (frame.item.confirmed) session.pendingAck = { downlinkId: frame.item.id, fCntDown };
    }
    return {
      sent: true,
      idle: false,
      fCntDown,
      item: frame.item,
      transmit: result,
      dropped,
      macIncluded: frame.macIncluded,
    };
  }

  private buildFrame(req: DataDownlinkRequest, dr: number, fCnt32: number): BuiltFrame {
    const { session, region } = req;
    const maxPayload = region.dataRate(dr)?.maxPayload ?? 0;
    const keys = { nwkSKey: hexToBytes(session.nwkSKey), appSKey: hexToBytes(session.appSKey) };
    const item = this.queue.peek(session.devEui);
    const macBytes = encodeMacCommands(req.mac, 'down');
    const base = { devAddr: session.devAddr, fCnt32 };

    // FOpts holds 15 bytes, and without FPort the MACPayload is 7 + FOpts ≤ M = N + 8 (AS923's dwell time: N = 11 at DR2).
    if (macBytes.length > Math.min(15, maxPayload + 1)) {
      // Too long for FOpts: MAC commands go alone on FPort 0 (§4.3.1.6), as many as the data rate carries.
      const fitting = fitCommands(req.mac, maxPayload);
      return {
        phy: encodeDataFrame(
          {
            ...base,
            mType: 'UnconfirmedDataDown',
            fCtrl: { ack: req.ack, fPending: item !== undefined },
            fPort: 0,
            payload: encodeMacCommands(fitting, 'down'),
          },
          keys,
        ),
        macIncluded: fitting.length === req.mac.length,
      };
    }
    const fits = item !== undefined && macBytes.length + item.data.length <= maxPayload;
    const sendItem = fits ? item : undefined;
    const mType: DataMType = sendItem?.confirmed ? 'ConfirmedDataDown' : 'UnconfirmedDataDown';
    const more = this.queue.size(session.devEui) - (sendItem ? 1 : 0) > 0;
    const phy = encodeDataFrame(
      {
        ...base,
        mType,
        fCtrl: { ack: req.ack, fPending: more },
        fOpts: macBytes,
        fPort: sendItem?.fPort,
        payload: sendItem?.data,
      },
      keys,
    );
    return { phy, item: sendItem, macIncluded: true };
  }
}

function fitCommands(commands: readonly MacCommand[], maxBytes: number): MacCommand[] {
  const out: MacCommand[] = [];
  let used = 0;
  for (const command of commands) {
    const size = macCommandSize(command.cid);
    if (used + size > maxBytes) break;
    out.push(command);
    used += size;
  }
  return out;
}

/** RX1 then RX2 plans for a Join Accept (JOIN_ACCEPT_DELAY1/2, default RX2 settings: §6.2.6). */
export function joinAcceptPlans(
  region: Region,
  rx: RxMetadata,
  upDr: number,
  phyPayload: Uint8Array,
): WindowPlan[] {
  return [
    {
      window: 'rx1',
      tmst: addTmst(rx.tmst, region.joinAcceptDelay1Ms * 1000),
      frequencyHz: region.rx1Frequency(rx.frequencyHz),
      dr: region.rx1DataRate(upDr, 0),
      phyPayload,
    },
    {
      window: 'rx2',
      tmst: addTmst(rx.tmst, region.joinAcceptDelay2Ms * 1000),
      frequencyHz: region.rx2.frequencyHz,
      dr: region.rx2.dr,
      phyPayload,
    },
  ];
}
