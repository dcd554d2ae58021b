import { describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError, MaverickError } from '../proto/errors.js';
import { type OpenedModem, SatelliteModemSlot } from './satellite-modem-slot.js';

/** A modem double whose answers the test scripts. */
function scriptedModem(behaviour: { usable?: () => Promise<boolean> }) {
  const handlers = new Set<(m: Uint8Array) => void>();
  const sent: Uint8Array[] = [];
  let closed = false;
  const modem: OpenedModem = {
    moMtu: 340,
    isUsable: behaviour.usable ?? (async () => true),
    send: async (m) => {
      sent.push(m);
    },
    poll: async () => undefined,
    onMessage: (h) => {
      handlers.add(h);
      return () => handlers.delete(h);
    },
    close: () => {
      closed = true;
    },
  };
  return {
    modem,
    sent,
    deliverMt: (m: Uint8Array) => {
      for (const h of handlers) h(m);
    },
    isClosed: () => closed,
  };
}

describe('SatelliteModemSlot', () => {
  it('is not usable while the modem cannot be opened, and refuses to send with LinkDown', async () => {
    let attempts = 0;
    const slot = new SatelliteModemSlot({
      path: '/dev/nothing',
      open: async () => {
        attempts++;
        throw new MaverickError(ErrorCode.LinkModem, 'cannot open the SBD modem on /dev/nothing');
      },
    });
    expect(await slot.isUsable()).toBe(false);
    expect(await slot.isUsable()).toBe(false);
    expect(attempts).toBe(2);
    expect(slot.connected).toBe(false);
    await expect(slot.send(Uint8Array.of(1))).rejects.toSatisfy((err) =>
      isMaverickError(err, ErrorCode.LinkDown),
    );
    await expect(slot.poll()).rejects.toSatisfy((err) => isMaverickError(err, ErrorCode.LinkDown));
  });

  it('drops a modem that stops answering and reopens it at the next check, keeping MT handlers', async () => {
    const first = scriptedModem({
      usable: async () => {
        throw new MaverickError(ErrorCode.LinkTimeout, 'the modem did not answer AT+CSQ');
      },
    });
    const second = scriptedModem({});
    const modems = [first, second];
    const slot = new SatelliteModemSlot({ path: '/dev/sat', open: async () => modems.shift()!.modem });
    const received: number[] = [];
    slot.onMessage((m) => received.push(m[0]!));

    expect(await slot.isUsable()).toBe(false);
    expect(first.isClosed()).toBe(true);
    expect(slot.connected).toBe(false);
    first.deliverMt(Uint8Array.of(7)); // the old modem is no longer listened to

    expect(await slot.isUsable()).toBe(true);
    await slot.send(Uint8Array.of(1, 2));
    expect(second.sent).toEqual([Uint8Array.of(1, 2)]);
    second.deliverMt(Uint8Array.of(9));
    expect(received).toEqual([9]);

    slot.close();
    expect(second.isClosed()).toBe(true);
    expect(await slot.isUsable()).toBe(false);
  });

  it('keeps the modem after one failed session (not a timeout)', async () => {
    const only = scriptedModem({});
    only.modem.send = async () => {
      throw new MaverickError(ErrorCode.LinkDown, 'SBD session failed with MO status 18');
    };
    const slot = new SatelliteModemSlot({ path: '/dev/sat', open: async () => only.modem });
    expect(await slot.isUsable()).toBe(true);
    await expect(slot.send(Uint8Array.of(1))).rejects.toSatisfy((err) =>
      isMaverickError(err, ErrorCode.LinkDown),
    );
    expect(slot.connected).toBe(true);
    expect(only.isClosed()).toBe(false);
  });
});
