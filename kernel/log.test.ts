import { describe, expect, it } from 'vitest';
import { defaultLogFormat, textLine } from './log.js';

describe('log text form', () => {
  it('turns a pino record into one line a person reads', () => {
    const record = JSON.stringify({
      level: 40,
      time: Date.UTC(2026, 4, 1, 10),
      pid: 12,
      name: 'maverick',
      msg: 'broker refused MQTT 5; using MQTT 3.1.1 with a persistent session',
      url: 'mqtt://127.0.0.1:1883',
      attempt: 2,
      note: 'two words',
    });
    expect(textLine(record, false)).toBe(
      'WARN  broker refused MQTT 5; using MQTT 3.1.1 with a persistent session  url=mqtt://127.0.0.1:1883 attempt=2 note="two words"\n',
    );
    expect(textLine(record, true)).toMatch(/^2026-05-01T10:00:00.000Z WARN /);
    expect(textLine('not json', false)).toBe('not json\n');
  });

  it('is text for a terminal or the journal, JSON otherwise, unless MAVERICK_LOG_FORMAT says', () => {
    expect(defaultLogFormat(3, {})).toBe('json');
    expect(defaultLogFormat(3, { JOURNAL_STREAM: '8:1234' })).toBe('text');
    expect(defaultLogFormat(3, { JOURNAL_STREAM: '8:1234', MAVERICK_LOG_FORMAT: 'json' })).toBe('json');
    expect(defaultLogFormat(3, { MAVERICK_LOG_FORMAT: 'text' })).toBe('text');
  });
});
