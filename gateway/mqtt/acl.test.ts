import { describe, expect, it } from 'vitest';
import { mayPublish, maySubscribe } from './acl.js';

describe('broker ACL', () => {
  it('lets clients read events and gateway state only', () => {
    for (const ok of [
      'application/#',
      'application/+/device/+/event/+',
      'application/farm/device/0102030405060708/event/up',
      'gateway/+/state/conn',
      'gateway/aa555a0000000000/state/#',
      'gateway/+/event/log',
    ]) {
      expect(maySubscribe(ok), ok).toBe(true);
    }
    for (const denied of [
      '#',
      '+/#',
      '$SYS/#',
      'gateway/#',
      'gateway/+/command/#',
      'gateway/+/event/+',
      'other/topic',
      'application/#/x',
    ]) {
      expect(maySubscribe(denied), denied).toBe(false);
    }
  });

  it('lets clients publish downlink commands only', () => {
    expect(mayPublish('application/farm/device/0102030405060708/command/down')).toBe(true);
    for (const denied of [
      'application/farm/device/0102030405060708/event/up',
      'application/farm/device/not-an-eui/command/down',
      'gateway/aa555a0000000000/state/conn',
      'application/farm/device/0102030405060708/command/down/extra',
    ]) {
      expect(mayPublish(denied), denied).toBe(false);
    }
  });
});
