/**
 * Attack 8 of the hardening issue (output cut short): `maverick uplinks list
 * --json` piped to another program used to stop at exactly 65,536 bytes (the
 * process exited before stdout drained). 11,200 stored uplinks print as
 * 201,602 lines of JSON; every line must reach the reader, and parse.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openGatewayDatabase } from '../../gateway/store-access.js';
import { toUplinkDoc } from '../../kernel/db/ingest.js';
import { runCli } from '../helpers/cli.js';

const UPLINKS = 11_200;
const root = mkdtempSync(join(tmpdir(), 'maverick-pipe-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('CLI output to a pipe', () => {
  it('uplinks list --json delivers all 200,000+ lines to the reading end of a pipe', async () => {
    const db = await openGatewayDatabase(root, { synchronous: 'NORMAL' });
    try {
      const t0 = Date.UTC(2026, 10, 1);
      const docs = Array.from({ length: UPLINKS }, (_, i) =>
        toUplinkDoc({
          devEui: '0102030405060708',
          devAddr: '01000001',
          applicationId: 'farm',
          fCnt: i,
          fPort: 2,
          confirmed: false,
          adr: true,
          phyPayload: new Uint8Array([0x40, 1, 0, 0, 1, 0, i & 0xff, i >> 8, 2, 9, 9, 1, 2, 3, 4]),
          data: new Uint8Array([9, 9]),
          object: { temperature: 20 + (i % 10) / 10, humidity: 40 + (i % 7) },
          rxInfo: [{ gatewayId: 'aa555a0000000001', rssi: -70, snr: 8.5 }],
          frequencyHz: 868_100_000,
          receivedAtMs: t0 + i * 60_000,
          time: new Date(t0 + i * 60_000).toISOString(),
          timeSource: 'gps',
        }),
      );
      for (let i = 0; i < docs.length; i += 2000) await db.uplinks.bulkInsert(docs.slice(i, i + 2000));
    } finally {
      await db.close();
    }

    const result = await runCli(
      ['uplinks', 'list', '--data-dir', root, '--json', '--limit', String(UPLINKS)],
      {
        timeoutMs: 120_000,
      },
    );
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBeGreaterThan(65_536);
    const lines = result.stdout.split('\n').length - 1;
    expect(lines).toBeGreaterThanOrEqual(200_000);
    const list = JSON.parse(result.stdout) as { fCnt: number }[];
    expect(list).toHaveLength(UPLINKS);
    expect(list.at(-1)?.fCnt).toBe(UPLINKS - 1);
  }, 180_000);
});
