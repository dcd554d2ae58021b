import { describe, expect, it } from 'vitest';
import { Metrics } from '../../gateway/metrics/metrics.js';
import { formatStatus } from './status.js';

describe('maverick status text', () => {
  it('shows a permanently rejected outbox item as an alarm, and how many wait for a retry', () => {
    const metrics = new Metrics({ gatewayId: 'b827ebfffe123456', now: () => Date.UTC(2026, 0, 1) });
    const item = { kind: 'bundle', seq: 4, digest: 'ab'.repeat(32) };
    metrics.outboxItemRejected({ ...item, reason: 'RegionalChain' }, false);
    metrics.setOutboxQueues(new Set([item.digest]), 1);
    const text = formatStatus(metrics.snapshot());
    expect(text).toContain(
      'ALARM regional node rejected bundle 4 (RegionalChain) at 2026-01-01T00:00:00.000Z',
    );
    expect(text).toContain('outbox: 1 item(s) waiting for the regional node to retry');
  });
});
