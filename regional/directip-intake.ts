/**
 * The regional node's DirectIP intake: the receiver (transport/directip-receiver.ts)
 * wired to the message-link intake with reassembly state in the store, so
 * any number of workers behind one address (or Iridium's several delivery
 * targets) share partial messages, and a restarted worker loses nothing.
 * A modem's IMEI must be configured for a gateway that has a registered key.
 */
import type { Logger } from '../proto/log.js';
import type { OpenedRegional } from './open-node.js';
import { DirectIpMtSender, type DirectIpMtTarget } from './transport/directip-mt-client.js';
import { DirectIpReceiver } from './transport/directip-receiver.js';
import type { OtherItemHandler } from './transport/ingest-item.js';
import { RegionalMessageIntake } from './transport/message-intake.js';
import { StoredReassembler, type StoredReassemblerOptions } from './transport/stored-reassembly.js';

export interface DirectIpIntakeOptions {
  regional: Pick<OpenedRegional, 'node' | 'store' | 'registry'>;
  host?: string;
  port: number;
  /** IMEI → gateway id. */
  imeis: Readonly<Record<string, string>>;
  allowFrom?: readonly string[];
  confirm?: boolean;
  /** Iridium's DirectIP MT endpoint: the status replies go there, queued for the modem. */
  mt?: DirectIpMtTarget;
  /** Where MT status messages go instead (tests, another MT path); neither: logged only. */
  onMobileTerminated?: (imei: string, gatewayId: string, messages: Uint8Array[]) => void | Promise<void>;
  onOther?: OtherItemHandler;
  reassembly?: StoredReassemblerOptions;
  timeoutMs?: number;
  maxConnections?: number;
  logger?: Logger;
}

export interface DirectIpIntake {
  readonly receiver: DirectIpReceiver;
  readonly reassembler: StoredReassembler;
  close(): Promise<void>;
}

export async function startDirectIpIntake(options: DirectIpIntakeOptions): Promise<DirectIpIntake> {
  const { regional } = options;
  const reassembler = new StoredReassembler(regional.store.linkState, options.reassembly);
  const intake = new RegionalMessageIntake({
    node: regional.node,
    reassembler,
    ...(options.onOther ? { onOther: options.onOther } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const imeis = new Map(Object.entries(options.imeis));
  const mtSender = options.mt ? new DirectIpMtSender(options.mt, options.logger) : undefined;
  const onMobileTerminated =
    options.onMobileTerminated ??
    (mtSender
      ? async (imei: string, _gatewayId: string, messages: Uint8Array[]) => {
          await mtSender.sendAll(imei, messages);
        }
      : undefined);
  const registered = async (gatewayId: string) => {
    if (regional.registry.list().some((k) => k.gatewayId === gatewayId)) return true;
    await regional.registry.refresh(); // added by `maverick regional gateway add` since
    return regional.registry.list().some((k) => k.gatewayId === gatewayId);
  };
  const receiver = await DirectIpReceiver.start({
    port: options.port,
    ...(options.host ? { host: options.host } : {}),
    ...(options.allowFrom ? { allowFrom: options.allowFrom } : {}),
    ...(options.confirm === undefined ? {} : { confirm: options.confirm }),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.maxConnections ? { maxConnections: options.maxConnections } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(onMobileTerminated ? { onMobileTerminated } : {}),
    gatewayForImei: async (imei) => {
      const gatewayId = imeis.get(imei);
      return gatewayId && (await registered(gatewayId)) ? gatewayId : undefined;
    },
    onPayload: (imei, payload) => intake.handle(imei, payload),
  });
  return { receiver, reassembler, close: () => receiver.close() };
}
