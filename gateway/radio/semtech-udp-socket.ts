/**
 * The Semtech UDP backend's socket, bound: IPv4 or IPv6 by the host's form, with the receive
 * buffer asked for (the kernel caps it at net.core.rmem_max; `maverick doctor` checks that).
 * A port that cannot be bound is a RadioBind error that says what to change.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { ErrorCode, MaverickError } from '../../proto/errors.js';

export async function bindSemtechSocket(
  host: string,
  port: number,
  receiveBufferBytes: number,
): Promise<dgram.Socket> {
  const socket = dgram.createSocket({
    type: isIPv6(host) ? 'udp6' : 'udp4',
    recvBufferSize: receiveBufferBytes,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return socket;
  } catch (err) {
    socket.close();
    throw new MaverickError(ErrorCode.RadioBind, `semtech-udp: cannot bind ${host}:${port}`, {
      hint: 'another process (a second maverick, chirpstack-gateway-bridge) may hold the port; pick another port',
      cause: err,
    });
  }
}
