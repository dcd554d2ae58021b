import { describe, expect, it } from 'vitest';
import type { JoinEvent, ProcessedUplink } from '../kernel/ns/index.js';
import type { Logger } from '../proto/log.js';
import type { RxMetadata } from '../proto/radio.js';
import { logJoin, logUplink } from './journal.js';

function capture(): { logger: Logger; lines: { fields: Record<string, unknown>; msg: string }[] } {
  const lines: { fields: Record<string, unknown>; msg: string }[] = [];
  const info = ((fields: Record<string, unknown>, msg: string) => {
    lines.push({ fields, msg });
  }) as unknown as Logger['info'];
  const none = (() => {}) as Logger['info'];
  const logger: Logger = {
    trace: none,
    debug: none,
    info,
    warn: none,
    error: none,
    fatal: none,
    child: () => logger,
  };
  return { logger, lines };
}

const device = {
  devEui: '70b3d57ed0001234',
  name: 'soil-probe-1',
  applicationId: 'farm',
  regionId: 'EU868' as const,
  codec: { kind: 'cayenne-lpp' as const },
};
const rx: RxMetadata = {
  gatewayEui: 'aa555a0000000001',
  tmst: 1,
  frequencyHz: 868_100_000,
  channel: 0,
  rfChain: 0,
  dataRate: { modulation: 'LORA', spreadingFactor: 7, bandwidthKHz: 125 },
  rssi: -81,
  snr: 7.5,
  backend: 'semtech-udp',
};

describe('journal lines', () => {
  it('say which device sent what and how well it was heard', () => {
    const { logger, lines } = capture();
    const up = {
      device,
      devAddr: '26011bda',
      session: 0,
      fCnt: 42,
      fPort: 2,
      confirmed: false,
      adr: true,
      dr: 5,
      data: Uint8Array.of(1, 0x67, 0, 0xd2),
      object: { temperatureSensor: { '1': 21 } },
      warnings: [],
      errors: [],
      rxInfo: [rx],
      txInfo: { frequencyHz: 868_100_000, dataRate: rx.dataRate },
      time: '2026-05-01T10:00:00.000Z',
      timeSource: 'gps',
      phyPayload: new Uint8Array(),
    } satisfies ProcessedUplink;
    logUplink(logger, up);
    logUplink(logger, { ...up, object: undefined, errors: ['decodeUplink threw'] } as ProcessedUplink);
    const join: JoinEvent = { device, devAddr: '260b0001', joinNonce: 1, time: up.time, rxInfo: [rx] };
    logJoin(logger, join);
    expect(lines.map((l) => l.msg)).toEqual([
      'uplink from soil-probe-1 (70b3d57ed0001234) fCnt 42 port 2, 4 bytes via aa555a0000000001, RSSI -81 dBm SNR 7.5 dB: temperatureSensor.1=21',
      'uplink from soil-probe-1 (70b3d57ed0001234) fCnt 42 port 2, 4 bytes via aa555a0000000001, RSSI -81 dBm SNR 7.5 dB (codec failed: decodeUplink threw)',
      'device soil-probe-1 (70b3d57ed0001234) joined as DevAddr 260b0001 via aa555a0000000001, RSSI -81 dBm SNR 7.5 dB',
    ]);
    expect(lines[0]?.fields).toMatchObject({ devEui: device.devEui, fCnt: 42, rssi: -81, snr: 7.5 });
  });

  it('builds no uplink line when info lines are off (a real pino logger at level warn)', async () => {
    const { createLogger } = await import('../kernel/log.js');
    const logger = createLogger({ level: 'warn' });
    const up = { device, fCnt: 1, fPort: 2, errors: [], rxInfo: [rx], data: Uint8Array.of(1) };
    let walked = false;
    const ownKeys = (target: object) => {
      walked = true;
      return Reflect.ownKeys(target);
    };
    const object = new Proxy({ a: 1 }, { ownKeys });
    logUplink(logger, { ...up, object } as unknown as ProcessedUplink);
    expect(walked).toBe(false);
    expect(logger.isLevelEnabled?.('info')).toBe(false);
    expect(createLogger({ level: 'info' }).isLevelEnabled?.('info')).toBe(true);
  });
});
