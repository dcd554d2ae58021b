/**
 * `maverick uplinks export`: stored uplinks as CSV or JSON lines, streamed
 * from the store page by page (kernel/db/uplink-export.ts) and written with
 * backpressure, so a year of a farm never sits in memory. CSV puts every
 * decoded field in a column of its own (`object.temperatureSensor.1`); the
 * columns are found in a first pass over the same stream, which keeps only
 * the set of field names.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { FarmDatabase } from '../../kernel/db/farm-db.js';
import type { UplinkDoc } from '../../kernel/db/schemas.js';
import { flattenObject, streamUplinks } from '../../kernel/db/uplink-export.js';
import { summarise, type UplinkFilter } from '../../kernel/db/uplink-queries.js';
import { csvLine } from '../format/csv.js';

/** The fixed columns, before the decoded fields. */
export const EXPORT_COLUMNS = [
  'time',
  'receivedAt',
  'timeSource',
  'devEui',
  'devAddr',
  'applicationId',
  'plotId',
  'fCnt',
  'fPort',
  'confirmed',
  'dr',
  'frequencyHz',
  'rssi',
  'snr',
  'gateways',
  'data',
  'codecErrors',
] as const;

function fixedValues(doc: UplinkDoc): unknown[] {
  const s = summarise(doc);
  return [
    s.time,
    s.receivedAt,
    s.timeSource,
    s.devEui,
    s.devAddr,
    doc.applicationId,
    doc.plotId,
    s.fCnt,
    s.fPort,
    s.confirmed,
    doc.dr,
    doc.frequencyHz,
    s.rssi,
    s.snr,
    s.gateways,
    s.data,
    doc.codecErrors?.join('; '),
  ];
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

async function decodedColumns(db: FarmDatabase, filter: UplinkFilter): Promise<string[]> {
  const paths = new Set<string>();
  for await (const doc of streamUplinks(db, filter)) {
    if (doc.object) for (const [path] of flattenObject(doc.object)) paths.add(path);
  }
  return [...paths].sort();
}

export async function writeUplinks(
  db: FarmDatabase,
  filter: UplinkFilter,
  format: 'csv' | 'jsonl',
  out: Writable,
): Promise<number> {
  let rows = 0;
  if (format === 'jsonl') {
    for await (const doc of streamUplinks(db, filter)) {
      const s = summarise(doc);
      const line = {
        ...s,
        applicationId: doc.applicationId,
        plotId: doc.plotId,
        dr: doc.dr,
        frequencyHz: doc.frequencyHz,
      };
      if (doc.codecErrors) Object.assign(line, { codecErrors: doc.codecErrors });
      await write(out, `${JSON.stringify(line)}\n`);
      rows++;
    }
    return rows;
  }
  const columns = await decodedColumns(db, filter);
  await write(out, csvLine([...EXPORT_COLUMNS, ...columns.map((c) => `object.${c}`)]));
  for await (const doc of streamUplinks(db, filter)) {
    const decoded = new Map(doc.object ? flattenObject(doc.object) : []);
    await write(out, csvLine([...fixedValues(doc), ...columns.map((c) => decoded.get(c))]));
    rows++;
  }
  return rows;
}

/** Writes the export to `path` (or standard output) and waits until it is flushed. */
export async function exportUplinks(
  db: FarmDatabase,
  filter: UplinkFilter,
  format: 'csv' | 'jsonl',
  path?: string,
): Promise<number> {
  if (!path) return writeUplinks(db, filter, format, process.stdout);
  const file = createWriteStream(path, { mode: 0o600 });
  try {
    const rows = await writeUplinks(db, filter, format, file);
    file.end();
    await once(file, 'finish');
    return rows;
  } catch (err) {
    file.destroy();
    throw err;
  }
}
