/**
 * Issue 11: `maverick uplinks export --format csv` of 100,000 stored uplinks
 * reads back with Python's `csv` module (an independent reader) with the
 * right columns and row count, and streams: the peak RSS of the export
 * process is measured (getrusage via a preload that reports
 * `process.resourceUsage().maxRSS` at exit) and must stay close to that of
 * exporting 2,000 uplinks. Also `--dev-eui`, `--since/--until` (a bare day
 * includes all of it) and `--format jsonl`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGatewayDatabase } from '../gateway/store-access.js';
import { toUplinkDoc } from '../kernel/db/ingest.js';
import { projectRoot } from './helpers/cli.js';

const TOTAL = 100_000;
const DEVICES = 50;
const DAY0 = Date.UTC(2026, 0, 1);
/** One uplink every 5 minutes per device: 100,000 uplinks span about 7 days. */
const STEP_MS = 6_000;
const python = 'python3';

let root: string;
let dataDir: string;
let smallDir: string;
const devEuiOf = (d: number) => `70b3d5ff0000${d.toString(16).padStart(4, '0')}`;

async function seed(dir: string, count: number): Promise<void> {
  const db = await openGatewayDatabase(dir, { synchronous: 'NORMAL' });
  try {
    const batch = 5_000;
    for (let start = 0; start < count; start += batch) {
      const docs = [];
      for (let i = start; i < Math.min(count, start + batch); i++) {
        const device = i % DEVICES;
        const at = DAY0 + i * STEP_MS;
        const odd = i % 1000 === 7;
        docs.push(
          toUplinkDoc({
            devEui: devEuiOf(device),
            devAddr: (0x26000000 + device).toString(16),
            applicationId: 'farm',
            fCnt: Math.floor(i / DEVICES),
            fPort: 2,
            confirmed: false,
            adr: true,
            dr: 5,
            phyPayload: Uint8Array.of(0x40, i & 0xff, 1, 2, 3),
            data: Uint8Array.of(1, 0x67, 0, 0xd2),
            // Field sets differ between devices: the CSV carries the union as columns.
            object: odd
              ? { note: 'quoted, "text"\nover two lines' }
              : {
                  temperatureSensor: { '1': 21 + (i % 10) / 10 },
                  ...(device % 2 ? { humiditySensor: { '2': 40 + (i % 7) } } : {}),
                },
            rxInfo: [{ gatewayEui: 'aa555a0000000001', rssi: -60 - (i % 40), snr: 7.5 }],
            frequencyHz: 868_100_000,
            receivedAtMs: at,
            time: new Date(at).toISOString(),
            timeSource: 'gps',
          }),
        );
      }
      await db.uplinks.bulkInsert(docs);
    }
  } finally {
    await db.close();
  }
}

interface Exported {
  status: number | null;
  stderr: string;
  maxRssKiB: number;
}

function exportCli(dir: string, out: string, ...args: string[]): Exported {
  const rssFile = join(root, `rss-${Math.random().toString(16).slice(2)}`);
  const preload = join(root, 'report-rss.cjs');
  const res = spawnSync(
    process.execPath,
    [
      '--require',
      preload,
      join(projectRoot, 'bin', 'maverick.js'),
      'uplinks',
      'export',
      '--data-dir',
      dir,
      '--out',
      out,
      ...args,
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, RSS_OUT: rssFile, MAVERICK_LOG_LEVEL: 'warn' },
      timeout: 300_000,
    },
  );
  return { status: res.status, stderr: res.stderr, maxRssKiB: Number(readFileSync(rssFile, 'utf8')) };
}

/** Python's csv module reads the file back: header, row count, and a few checked values. */
function readWithPython(file: string): { header: string[]; rows: number; devices: number; notes: string[] } {
  const script = `
import csv, json, sys
with open(sys.argv[1], newline='') as f:
    r = csv.reader(f, strict=True)
    header = next(r)
    rows = 0
    devices = set()
    notes = []
    width = len(header)
    for row in r:
        if len(row) != width:
            raise SystemExit('row %d has %d fields, header %d' % (rows + 2, len(row), width))
        rows += 1
        devices.add(row[header.index('devEui')])
        n = row[header.index('object.note')]
        if n and len(notes) < 2:
            notes.append(n)
print(json.dumps({'header': header, 'rows': rows, 'devices': len(devices), 'notes': notes}))
`;
  const res = spawnSync(python, ['-c', script, file], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`python csv: ${res.stderr}`);
  return JSON.parse(res.stdout);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'maverick-export-csv-'));
  writeFileSync(
    join(root, 'report-rss.cjs'),
    "process.on('exit', () => require('node:fs').writeFileSync(process.env.RSS_OUT, String(process.resourceUsage().maxRSS)));\n",
  );
  dataDir = join(root, 'big');
  smallDir = join(root, 'small');
  for (const d of [dataDir, smallDir]) spawnSync('mkdir', ['-p', d]);
  await seed(dataDir, TOTAL);
  await seed(smallDir, 2_000);
}, 600_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('maverick uplinks export', () => {
  it('writes 100,000 uplinks as CSV that Python reads back, in bounded memory', () => {
    const out = join(root, 'all.csv');
    const big = exportCli(dataDir, out, '--format', 'csv');
    expect(big.stderr).toBe('');
    expect(big.status).toBe(0);
    const read = readWithPython(out);
    expect(read.rows).toBe(TOTAL);
    expect(read.devices).toBe(DEVICES);
    expect(read.header.slice(0, 5)).toEqual(['time', 'receivedAt', 'timeSource', 'devEui', 'devAddr']);
    expect(read.header).toEqual(
      expect.arrayContaining(['object.temperatureSensor.1', 'object.humiditySensor.2', 'object.note']),
    );
    expect(read.notes[0]).toBe('quoted, "text"\nover two lines');

    const small = exportCli(smallDir, join(root, 'small.csv'), '--format', 'csv');
    expect(small.status).toBe(0);
    // Streaming: 50x the uplinks may not cost more than a little extra memory (holding them would
    // cost well over 100 MiB). The figures are printed for the note.
    process.stdout.write(
      `uplinks export peak RSS: ${(big.maxRssKiB / 1024).toFixed(1)} MiB for ${TOTAL} uplinks, ${(small.maxRssKiB / 1024).toFixed(1)} MiB for 2000\n`,
    );
    expect(big.maxRssKiB).toBeLessThan(small.maxRssKiB + 48 * 1024);
  }, 600_000);

  it('filters by device and by an inclusive day range, and writes JSON lines', () => {
    const out = join(root, 'one.jsonl');
    const dayText = new Date(DAY0 + 86_400_000).toISOString().slice(0, 10);
    const res = exportCli(
      dataDir,
      out,
      '--format',
      'jsonl',
      '--dev-eui',
      '70-B3-D5-FF-00-00-00-03',
      '--since',
      dayText,
      '--until',
      dayText,
    );
    expect(res.status).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Device 3 sends every 50 × 6 s = 5 min: 288 uplinks in one whole day, the last at 23:55.
    expect(lines).toHaveLength(288);
    expect(lines.every((l) => l.devEui === devEuiOf(3))).toBe(true);
    expect(lines.at(-1).receivedAt).toBe(`${dayText}T23:55:18.000Z`);
    const times = lines.map((l) => Date.parse(l.receivedAt));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  }, 120_000);
});
