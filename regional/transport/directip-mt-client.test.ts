import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMtConfirmation } from '../../proto/link/directip-mt.js';
import { IridiumDirectIpEmulator } from '../../simulator/iridium-directip.js';
import { DirectIpMtSender } from './directip-mt-client.js';

const IMEI = '300234010753370';
const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

describe('DirectIpMtSender', () => {
  it('queues status messages for a modem at the (emulated) Iridium MT endpoint; the modem fetches them', async () => {
    const emulator = new IridiumDirectIpEmulator({ target: { host: '127.0.0.1', port: 1 } });
    closers.push(() => emulator.close());
    const sender = new DirectIpMtSender(await emulator.listenMt());
    const first = await sender.send(IMEI, Uint8Array.of(0x11, 1, 2, 3, 4, 0));
    expect(first.status).toBe(1);
    expect(await sender.sendAll(IMEI, [Uint8Array.of(0x11, 5, 6, 7, 8, 1)])).toBe(1);
    const fetched: number[][] = [];
    const modem = emulator.transport(IMEI);
    modem.onMessage((m) => fetched.push([...m]));
    await modem.poll();
    expect(fetched).toEqual([
      [0x11, 1, 2, 3, 4, 0],
      [0x11, 5, 6, 7, 8, 1],
    ]);
  });

  it("rejects with Iridium's reason, and on a dead endpoint; sendAll logs and goes on", async () => {
    const server = createServer((socket) => {
      socket.once('data', (b: Buffer) =>
        socket.end(
          encodeMtConfirmation({
            clientMessageId: b.readUInt32BE(6),
            imei: IMEI,
            autoIdReference: 1,
            status: -2,
          }),
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    closers.push(() => server.close());
    const port = (server.address() as { port: number }).port;
    await expect(
      new DirectIpMtSender({ host: '127.0.0.1', port }).send(IMEI, Uint8Array.of(1)),
    ).rejects.toThrow(/unknown IMEI/);
    server.close();
    const dead = new DirectIpMtSender({ host: '127.0.0.1', port, timeoutMs: 2000 });
    await expect(dead.send(IMEI, Uint8Array.of(1))).rejects.toThrow(/DirectIP MT/);
    expect(await dead.sendAll(IMEI, [Uint8Array.of(1), Uint8Array.of(2)])).toBe(0);
  });
});
