/**
 * `maverick uplinks export`: stored uplinks as CSV or JSON lines, streamed
 * from the store page by page (kernel/db/uplink-export.ts) and written with
 * backpressure, so a year of a farm never sits in memory. CSV puts every
 * decoded field in a column of its own (`object.temperatureSensor.1`); the
 * columns are found in a first pass over the same stream, which keeps only
 * the set of field names.
 */

import { once } from 'node:events';
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { FarmDatabase } from '../../kernel/db/farm-db.js';
import type { UplinkDoc } from '../../kernel/db/schemas.js';
import { flattenObject, streamUplinks } from '../../kernel/db/uplink-export.js';
import { summarise, type UplinkFilter } from '../../kernel/db/uplink-queries.js';
import { csvLine } from '../format/csv.js';
import { BufferedTextSink, type ChunkWriter } from '../format/text-sink.js';

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
  out: BufferedTextSink,
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
      await out.write(`${JSON.stringify(line)}\n`);
      rows++;
    }
    return rows;
  }
  const columns = await decodedColumns(db, filter);
  await out.write(csvLine([...EXPORT_COLUMNS, ...columns.map((c) => `object.${c}`)]));
  for await (const doc of streamUplinks(db, filter)) {
    const decoded = new Map(doc.object ? flattenObject(doc.object) : []);
    await out.write(csvLine([...fixedValues(doc), ...columns.map((c) => decoded.get(c))]));
    rows++;
  }
  return rows;
}

/** A stream keeps the chunk it is given until written: it gets a copy, and backpressure is honoured. */
function streamWriter(out: Writable): ChunkWriter {
  return async (chunk) => {
    if (!out.write(Buffer.from(chunk))) await once(out, 'drain');
  };
}

/** Writes the export to `path` (or standard output) and waits until it is written. */
export async function exportUplinks(
  db: FarmDatabase,
  filter: UplinkFilter,
  format: 'csv' | 'jsonl',
  path?: string,
): Promise<number> {
  if (!path) {
    const sink = new BufferedTextSink(streamWriter(process.stdout));
    const rows = await writeUplinks(db, filter, format, sink);
    await sink.flush();
    return rows;
  }
  const file = await open(path, 'w', 0o600);
  try {
    // The file's own writes finish before the promise settles, so the sink's buffer is reused as is.
    const sink = new BufferedTextSink(async (chunk) => {
      for (let done = 0; done < chunk.length; ) {
        done += (await file.write(chunk, done, chunk.length - done)).bytesWritten;
      }
    });
    const rows = await writeUplinks(db, filter, format, sink);
    await sink.flush();
    return rows;
  } finally {
    await file.close();
  }
}
