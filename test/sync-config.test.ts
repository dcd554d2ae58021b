/**
 * `maverick run`'s mapping of [regional] onto the runtime's sync option
 * (gateway/app.ts): which links exist, in which order, with which modem
 * settings and satellite budget.
 */
import { describe, expect, it } from 'vitest';
import { regionalSyncOptions } from '../gateway/app.js';
import { type MaverickConfig, validateConfig } from '../gateway/config/index.js';

function configWith(regional: Record<string, unknown>): MaverickConfig {
  return {
    ...validateConfig({ gateway: { id: 'b827ebfffe123456', region: 'EU868' }, regional }, 'x'),
    dataDir: '/tmp',
  };
}

describe('[regional] → runtime sync', () => {
  it('has no sync without a url or a satellite link', () => {
    expect(regionalSyncOptions(configWith({}))).toEqual({});
    expect(regionalSyncOptions(configWith({ links: ['mqtt'] }))).toEqual({});
  });

  it('maps MQTT alone as before', () => {
    expect(regionalSyncOptions(configWith({ url: 'mqtt://r.example:1883' }))).toEqual({
      sync: { regionalUrl: 'mqtt://r.example:1883', order: ['mqtt'] },
    });
  });

  it('adds the SBD modem with its path, baud and daily budget, in the configured order', () => {
    const { sync } = regionalSyncOptions(
      configWith({
        url: 'mqtts://r.example:8883',
        links: ['mqtt', 'satellite'],
        sbd_path: '/dev/ttyUSB3',
        sbd_baud: 9600,
        satellite_daily_bytes: 1700,
        satellite_repeat_percent: 10,
      }),
    );
    expect(sync).toEqual({
      regionalUrl: 'mqtts://r.example:8883',
      satellite: { path: '/dev/ttyUSB3', baudRate: 9600, dailyBytes: 1700, repeatShare: 0.1 },
      order: ['mqtt', 'satellite'],
    });
  });

  it('runs satellite only when links leaves MQTT out, even with a url', () => {
    const { sync } = regionalSyncOptions(configWith({ url: 'mqtt://r.example:1883', links: ['satellite'] }));
    expect(sync?.regionalUrl).toBeUndefined();
    expect(sync?.satellite).toEqual({
      path: '/dev/maverick-satmodem',
      baudRate: 19200,
      dailyBytes: 4000,
      repeatShare: 0.25,
    });
  });
});
