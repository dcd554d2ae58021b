import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import { MqttLink } from './mqtt-link.js';

/** These tests never receive an ack, so any 32 bytes stand in for the regional key. */
const noKey = new Uint8Array(32);
const links: MqttLink[] = [];
afterEach(async () => {
  for (const l of links.splice(0)) await l.close();
});

describe('MqttLink configuration', () => {
  it('refuses a gateway id that cannot be an MQTT topic level', () => {
    let err: unknown;
    try {
      new MqttLink({ url: 'mqtt://127.0.0.1:1', gatewayId: 'farm/+', regionalPublicKey: noKey });
    } catch (e) {
      err = e;
    }
    expect(isMaverickError(err, ErrorCode.ConfigInvalid)).toBe(true);
  });

  it('names the TLS files when they cannot be read', () => {
    const link = new MqttLink({
      url: 'mqtts://127.0.0.1:1',
      gatewayId: 'gw-1',
      regionalPublicKey: noKey,
      tls: { caPath: '/nonexistent/ca.pem' },
    });
    links.push(link);
    let err: unknown;
    try {
      link.start();
    } catch (e) {
      err = e;
    }
    expect(isMaverickError(err, ErrorCode.MqttTls)).toBe(true);
  });

  it('is down, and transmits nothing, while no broker answers', async () => {
    const link = new MqttLink({
      url: 'mqtt://127.0.0.1:1',
      gatewayId: 'gw-1',
      regionalPublicKey: noKey,
      reconnectPeriodMs: 50,
    }).start();
    links.push(link);
    const item = {
      digest: '00'.repeat(32),
      kind: 'bundle' as const,
      seq: 1,
      bytes: Uint8Array.of(1),
      createdAt: 0,
    };
    let spent = 0;
    const outcome = await link.transmit(item, {
      trySpend: async (n) => {
        spent += n;
        return true;
      },
    });
    expect(outcome).toBe('down');
    expect(spent).toBe(0);
    expect(link.isUp()).toBe(false);
  });
});
