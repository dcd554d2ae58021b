/**
 * Probes of the concentrator link when no gateway is running: listen on the
 * UDP bind for a packet forwarder's datagrams, or ask a serial concentrator
 * for its HELLO. Both are bounded by a timeout and never throw.
 */
import { createSocket } from 'node:dgram';
import { SerialPort } from 'serialport';
import { encodeMessage, SerialFrameDecoder } from '../../proto/serial/index.js';
import type { SerialProbeResult } from './types.js';

/** Upstream identifiers a forwarder sends (Semtech PROTOCOL.TXT §3-§5): PUSH_DATA, PULL_DATA, TX_ACK. */
const UPSTREAM_IDENTIFIERS: Record<number, string> = { 0: 'PUSH_DATA', 2: 'PULL_DATA', 5: 'TX_ACK' };

export interface SemtechUpstream {
  identifier: string;
  gatewayEui: string;
}

/**
 * Recognises a Semtech UDP upstream datagram by its header: protocol version
 * 1 or 2, a token, an upstream identifier and the 8-byte gateway EUI.
 * Returns undefined for anything else; never throws on any bytes.
 */
export function sniffSemtechUpstream(datagram: Uint8Array): SemtechUpstream | undefined {
  if (datagram.length < 12) return undefined;
  if (datagram[0] !== 1 && datagram[0] !== 2) return undefined;
  const identifier = UPSTREAM_IDENTIFIERS[datagram[3]];
  if (identifier === undefined) return undefined;
  return { identifier, gatewayEui: Buffer.from(datagram.subarray(4, 12)).toString('hex') };
}

export type UdpListenResult =
  | { kind: 'heard'; datagrams: number; gatewayEuis: string[]; otherDatagrams: number }
  | { kind: 'silent'; otherDatagrams: number }
  | { kind: 'bind-error'; code: string };

/** Binds the forwarder's target address for `listenMs` and counts what arrives. */
export function listenForForwarder(host: string, port: number, listenMs: number): Promise<UdpListenResult> {
  return new Promise((resolveListen) => {
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    let datagrams = 0;
    let otherDatagrams = 0;
    const euis = new Set<string>();
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: UdpListenResult) => {
      if (timer) clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {});
      try {
        socket.close();
      } catch {
        // already closed after a failed bind
      }
      resolveListen(result);
    };
    socket.on('error', (err: NodeJS.ErrnoException) =>
      finish({ kind: 'bind-error', code: err.code ?? err.message }),
    );
    socket.on('message', (msg) => {
      const upstream = sniffSemtechUpstream(msg);
      if (!upstream) {
        otherDatagrams++;
        return;
      }
      datagrams++;
      euis.add(upstream.gatewayEui);
    });
    socket.bind(port, host, () => {
      timer = setTimeout(() => {
        finish(
          datagrams > 0
            ? { kind: 'heard', datagrams, gatewayEuis: [...euis], otherDatagrams }
            : { kind: 'silent', otherDatagrams },
        );
      }, listenMs);
    });
  });
}

/** Opens the port, sends HELLO-REQUEST (Maverick serial protocol, proto/serial) and waits for HELLO. */
export function probeSerialHello(
  path: string,
  baudRate: number,
  timeoutMs: number,
): Promise<SerialProbeResult> {
  return new Promise((resolveProbe) => {
    const decoder = new SerialFrameDecoder();
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const port = new SerialPort({ path, baudRate, autoOpen: false, lock: true });
    const finish = (result: SerialProbeResult) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      port.removeAllListeners('data');
      if (port.isOpen) port.close(() => resolveProbe(result));
      else resolveProbe(result);
    };
    port.on('error', (err: Error) => finish({ kind: 'error', message: err.message }));
    port.on('data', (chunk: Buffer) => {
      for (const event of decoder.pushMessages(chunk)) {
        if (event.kind === 'message' && event.message.type === 'hello') {
          const { firmware, protocolVersion } = event.message;
          finish({
            kind: 'hello',
            firmware: `${firmware.major}.${firmware.minor}.${firmware.patch}`,
            protocolVersion,
          });
        }
      }
    });
    port.open((err) => {
      if (err) {
        finish({ kind: 'error', message: err.message });
        return;
      }
      timer = setTimeout(() => finish({ kind: 'silent' }), timeoutMs);
      port.write(Buffer.from(encodeMessage({ type: 'hello-request', seq: 1 })));
    });
  });
}
