import { afterEach, describe, expect, it } from 'vitest';
import { isMaverickError } from '../../proto/errors.js';
import { Metrics, type MetricsServer, startMetricsServer } from './index.js';

let servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function serve(metrics: Metrics): Promise<MetricsServer> {
  const server = await startMetricsServer({ metrics, host: '127.0.0.1', port: 0 });
  servers.push(server);
  return server;
}

/** Value of one sample line, e.g. `maverick_downlinks_total{status="TOO_LATE"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Metrics over a real loopback HTTP server', () => {
  it('serves every issue-7 metric in Prometheus text format', async () => {
    const metrics = new Metrics({ gatewayId: 'b827ebfffe123456' });
    metrics.uplinkReceived({ backend: 'semtech-udp', devEui: '0011223344556677', rssi: -80 });
    metrics.uplinkReceived({ backend: 'semtech-udp' });
    metrics.uplinkReceived({ backend: 'serial' });
    metrics.uplinkRejected('bad-mic');
    metrics.uplinkRejected('replay');
    metrics.uplinkRejected('replay');
    metrics.joinHandled('accepted');
    metrics.downlinkAcknowledged('OK');
    metrics.downlinkAcknowledged('TOO_LATE');
    metrics.setStoreSizeBytes(123456);
    metrics.setOutboxDepth(3);
    metrics.setLinkState('satellite', 'down');
    metrics.setLinkState('satellite', 'up');
    metrics.linkBytesSent('satellite', 340);
    metrics.linkBytesSent('satellite', 60);
    metrics.setRadioBackendState('semtech-udp', 'up');
    const server = await serve(metrics);

    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(sample(text, 'maverick_uplinks_received_total{backend="semtech-udp"}')).toBe(2);
    expect(sample(text, 'maverick_uplinks_received_total{backend="serial"}')).toBe(1);
    expect(sample(text, 'maverick_uplinks_rejected_total{reason="replay"}')).toBe(2);
    expect(sample(text, 'maverick_uplinks_rejected_total{reason="bad-mic"}')).toBe(1);
    expect(sample(text, 'maverick_joins_total{result="accepted"}')).toBe(1);
    expect(sample(text, 'maverick_downlinks_total{status="TOO_LATE"}')).toBe(1);
    expect(sample(text, 'maverick_downlinks_total{status="OK"}')).toBe(1);
    expect(sample(text, 'maverick_store_size_bytes')).toBe(123456);
    expect(sample(text, 'maverick_outbox_depth')).toBe(3);
    expect(sample(text, 'maverick_link_state{link="satellite",state="up"}')).toBe(1);
    expect(sample(text, 'maverick_link_state{link="satellite",state="down"}')).toBe(0);
    expect(sample(text, 'maverick_link_bytes_sent_total{link="satellite"}')).toBe(400);
    expect(sample(text, 'maverick_radio_backend_state{backend="semtech-udp",state="up"}')).toBe(1);
    expect(sample(text, 'maverick_radio_backend_state{backend="semtech-udp",state="down"}')).toBe(0);
    expect(text).toContain('# TYPE maverick_uplinks_received_total counter');
  });

  it('serves a JSON status snapshot that follows the live counters', async () => {
    let now = Date.UTC(2026, 0, 1);
    const metrics = new Metrics({ gatewayId: 'b827ebfffe123456', now: () => now });
    const server = await serve(metrics);
    metrics.setRadioBackendState('semtech-udp', 'up');
    now += 5000;
    metrics.uplinkReceived({ backend: 'semtech-udp', devEui: 'aa', fCnt: 7 });
    metrics.setClockSource('gps', '2026-01-01T00:00:05Z');
    metrics.setDeviceCount(4);
    const status = await (await fetch(`${server.url}/status`)).json();
    expect(status).toMatchObject({
      gatewayId: 'b827ebfffe123456',
      uptimeSeconds: 5,
      devices: 4,
      uplinks: { received: 1, lastAt: '2026-01-01T00:00:05.000Z' },
      radio: { 'semtech-udp': { state: 'up', uplinks: 1 } },
      clock: { source: 'gps', lastGpsTime: '2026-01-01T00:00:05Z' },
      recentUplinks: [{ devEui: 'aa', fCnt: 7, backend: 'semtech-udp' }],
    });
  });

  it('counts regional rejections and lists the permanent ones (the alarm) until they leave the outbox', async () => {
    const metrics = new Metrics({ gatewayId: 'b827ebfffe123456', now: () => Date.UTC(2026, 0, 1) });
    const item = { kind: 'bundle', seq: 4, digest: 'ab'.repeat(32) };
    metrics.outboxItemRejected({ ...item, reason: 'BundleUnknownKey' }, true);
    metrics.outboxItemRejected({ ...item, reason: 'RegionalChain' }, false);
    metrics.setOutboxQueues(new Set([item.digest]), 0);
    const text = await metrics.prometheusText();
    expect(sample(text, 'maverick_outbox_rejected_total{reason="BundleUnknownKey",transient="true"}')).toBe(
      1,
    );
    expect(sample(text, 'maverick_outbox_rejected_total{reason="RegionalChain",transient="false"}')).toBe(1);
    expect(sample(text, 'maverick_outbox_parked')).toBe(1);
    expect(metrics.snapshot().outbox.parked).toEqual([
      { ...item, reason: 'RegionalChain', at: '2026-01-01T00:00:00.000Z' },
    ]);
    metrics.setOutboxQueues(new Set(), 2);
    expect(metrics.snapshot().outbox).toMatchObject({ parked: [], retrying: 2 });
    expect(sample(await metrics.prometheusText(), 'maverick_outbox_parked')).toBe(0);
  });

  it('keeps two registries apart and can add process metrics', async () => {
    const a = new Metrics({ processMetrics: true });
    const b = new Metrics();
    a.uplinkReceived({ backend: 'serial' });
    expect(await b.prometheusText()).not.toContain('backend="serial"');
    expect(await a.prometheusText()).toContain('maverick_process_');
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const server = await serve(new Metrics());
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST', body: 'x' })).status).toBe(405);
  });

  it('fails with MetricsBind when the port is taken', async () => {
    const first = await serve(new Metrics());
    const attempt = startMetricsServer({ metrics: new Metrics(), host: '127.0.0.1', port: first.port });
    await expect(attempt).rejects.toSatisfy(
      (err: unknown) => isMaverickError(err) && /EADDRINUSE/.test(err.message),
    );
  });
});
