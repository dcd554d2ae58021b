import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../proto/errors.js';
import { silentLogger } from '../../proto/log.js';
import { createRadioBackend, type RadioConfig } from './factory.js';
import { SemtechUdpBackend } from './semtech-udp.js';
import { SemtechUdpThreadBackend } from './semtech-udp-thread.js';
import { SerialConcentratorBackend } from './serial-concentrator.js';
import { SingleChannelBackend } from './single-channel.js';

describe('createRadioBackend', () => {
  it('builds the backend the config names', () => {
    const udp = createRadioBackend({ kind: 'semtech-udp', host: '127.0.0.1', port: 0 }, silentLogger);
    expect(udp).toBeInstanceOf(SemtechUdpThreadBackend);
    expect(udp.kind).toBe('semtech-udp');
    const inProcess = createRadioBackend(
      { kind: 'semtech-udp', host: '127.0.0.1', port: 0, thread: false },
      silentLogger,
    );
    expect(inProcess).toBeInstanceOf(SemtechUdpBackend);
    const serial = createRadioBackend(
      { kind: 'serial', path: '/dev/ttyACM0', gatewayEui: '0011223344556677' },
      silentLogger,
    );
    expect(serial).toBeInstanceOf(SerialConcentratorBackend);
    expect(serial.capabilities.timedDownlink).toBe(true);
    const single = createRadioBackend(
      {
        kind: 'single-channel',
        path: '/dev/ttyUSB0',
        gatewayEui: '0011223344556677',
        frequencyHz: 868_100_000,
      },
      silentLogger,
    );
    expect(single).toBeInstanceOf(SingleChannelBackend);
    expect(single.capabilities.timedDownlink).toBe(false);
  });

  it('names the field in config errors', () => {
    expect(() =>
      createRadioBackend({ kind: 'serial', path: '', gatewayEui: '0011223344556677' }, silentLogger),
    ).toThrow(
      expect.objectContaining({
        code: ErrorCode.ConfigInvalid,
        message: expect.stringContaining('radio.path'),
      }),
    );
    expect(() =>
      createRadioBackend(
        { kind: 'single-channel', path: '/dev/x', gatewayEui: '0011223344556677', frequencyHz: 8.681 },
        silentLogger,
      ),
    ).toThrow(expect.objectContaining({ message: expect.stringContaining('radio.frequencyHz') }));
    expect(() => createRadioBackend({ kind: 'lorix' } as unknown as RadioConfig, silentLogger)).toThrow(
      expect.objectContaining({
        code: ErrorCode.ConfigInvalid,
        message: expect.stringContaining('radio.kind'),
      }),
    );
    expect(() =>
      createRadioBackend({ kind: 'serial', path: '/dev/x', gatewayEui: 'xyz' }, silentLogger),
    ).toThrow(expect.objectContaining({ code: ErrorCode.ConfigInvalid }));
  });
});
