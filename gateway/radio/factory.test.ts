import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../proto/errors.js';
import { silentLogger } from '../../proto/log.js';
import { createRadioBackend, type RadioConfig } from './factory.js';
import { SemtechUdpBackend } from './semtech-udp.js';
import { SemtechUdpThreadBackend } from './semtech-udp-thread.js';
import { SerialConcentratorBackend } from './serial-concentrator.js';
import { SingleChannelBackend } from './single-channel.js';

describe('createRadioBackend', () => {
  it('builds the backend the config names', async () => {
    const udp = await createRadioBackend({ kind: 'semtech-udp', host: '127.0.0.1', port: 0 }, silentLogger);
    expect(udp).toBeInstanceOf(SemtechUdpThreadBackend);
    expect(udp.kind).toBe('semtech-udp');
    const inProcess = await createRadioBackend(
      { kind: 'semtech-udp', host: '127.0.0.1', port: 0, thread: false },
      silentLogger,
    );
    expect(inProcess).toBeInstanceOf(SemtechUdpBackend);
    const serial = await createRadioBackend(
      { kind: 'serial', path: '/dev/ttyACM0', gatewayEui: '0011223344556677' },
      silentLogger,
    );
    expect(serial).toBeInstanceOf(SerialConcentratorBackend);
    expect(serial.capabilities.timedDownlink).toBe(true);
    const single = await createRadioBackend(
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

  it('names the field in config errors', async () => {
    await expect(
      createRadioBackend({ kind: 'serial', path: '', gatewayEui: '0011223344556677' }, silentLogger),
    ).rejects.toThrow(
      expect.objectContaining({
        code: ErrorCode.ConfigInvalid,
        message: expect.stringContaining('radio.path'),
      }),
    );
    await expect(
      createRadioBackend(
        { kind: 'single-channel', path: '/dev/x', gatewayEui: '0011223344556677', frequencyHz: 8.681 },
        silentLogger,
      ),
    ).rejects.toThrow(expect.objectContaining({ message: expect.stringContaining('radio.frequencyHz') }));
    await expect(
      createRadioBackend({ kind: 'lorix' } as unknown as RadioConfig, silentLogger),
    ).rejects.toThrow(
      expect.objectContaining({
        code: ErrorCode.ConfigInvalid,
        message: expect.stringContaining('radio.kind'),
      }),
    );
    await expect(
      createRadioBackend({ kind: 'serial', path: '/dev/x', gatewayEui: 'xyz' }, silentLogger),
    ).rejects.toThrow(expect.objectContaining({ code: ErrorCode.ConfigInvalid }));
  });
});
