import { describe, expect, it } from 'vitest';
import { isMaverickError } from '../errors.js';
import {
  commandDownTopic,
  eventTopic,
  filterWithin,
  gatewayStateTopic,
  parseCommandTopic,
  topicMatches,
} from './topics.js';

describe('ChirpStack topics', () => {
  it('builds event, command and gateway state topics with lower-case EUIs', () => {
    expect(eventTopic('farm', '0102030405060A0B', 'up')).toBe(
      'application/farm/device/0102030405060a0b/event/up',
    );
    expect(commandDownTopic('farm', '0102030405060a0b')).toBe(
      'application/farm/device/0102030405060a0b/command/down',
    );
    expect(gatewayStateTopic('AA555A0000000000')).toBe('gateway/aa555a0000000000/state/conn');
  });

  it('refuses levels that would change the topic structure', () => {
    expect(() => eventTopic('a/b', '0102030405060a0b', 'up')).toThrow(/applicationId/);
    expect(() => eventTopic('#', '0102030405060a0b', 'up')).toThrow(/applicationId/);
    expect(() => eventTopic('farm', '01020304', 'up')).toThrow(/devEui/);
  });

  it('parses a command topic and rejects wildcards and other shapes', () => {
    expect(parseCommandTopic('application/7/device/0102030405060A0B/command/down')).toEqual({
      applicationId: '7',
      devEui: '0102030405060a0b',
    });
    for (const bad of [
      'application/+/device/0102030405060a0b/command/down',
      'application/7/device/+/command/down',
      'application/7/device/#',
      'application/7/device/0102030405060a0b/event/up',
      'application/7/device/0102030405060a0b/command/down/x',
      '',
    ]) {
      let caught: unknown;
      try {
        parseCommandTopic(bad);
      } catch (err) {
        caught = err;
      }
      expect(isMaverickError(caught), bad).toBe(true);
    }
  });

  it('matches topics against filters (MQTT 3.1.1 §4.7)', () => {
    expect(topicMatches('application/#', 'application/1/device/x/event/up')).toBe(true);
    expect(topicMatches('application/+/device/+/event/+', 'application/1/device/x/event/up')).toBe(true);
    expect(topicMatches('application/+/device/+/event/+', 'application/1/device/x/command/down')).toBe(false);
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('#', '$SYS/x')).toBe(false);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
  });

  it('decides whether a subscription stays inside an allowed filter', () => {
    expect(filterWithin('application/#', 'application/#')).toBe(true);
    expect(filterWithin('application/+/device/+/event/up', 'application/#')).toBe(true);
    expect(filterWithin('application', 'application/#')).toBe(true);
    expect(filterWithin('gateway/+/state/conn', 'gateway/+/state/#')).toBe(true);
    expect(filterWithin('gateway/+/state/#', 'gateway/+/state/#')).toBe(true);
    expect(filterWithin('#', 'application/#')).toBe(false);
    expect(filterWithin('+/device/#', 'application/#')).toBe(false);
    expect(filterWithin('gateway/#', 'gateway/+/state/#')).toBe(false);
    expect(filterWithin('gateway/+/+/conn', 'gateway/+/state/#')).toBe(false);
    expect(filterWithin('gateway/x', 'gateway/+/state/#')).toBe(false);
    expect(filterWithin('application/#/x', 'application/#')).toBe(false);
  });
});
