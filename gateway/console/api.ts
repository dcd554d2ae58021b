/**
 * The console's JSON API: every route validates its input with a zod schema
 * and answers a MaverickError as 400 with the message and the fix, so the
 * page can show exactly what to correct. Authentication and CSRF are checked
 * by the server before a route runs (gateway/console/server.ts).
 */
import { z } from 'zod';
import { listPlots, putPlot, removePlot, validatePlot } from '../../kernel/db/plots.js';
import { listUplinks } from '../../kernel/db/uplink-queries.js';
import { deviceSeries } from '../../kernel/db/uplink-series.js';
import { addDevice, removeDevice, validateDevice } from '../../kernel/ns/registry.js';
import type { Activation, CodecRef } from '../../kernel/ns/types.js';
import { type ApiRequest, type ConsoleData, HttpError } from './api-types.js';

export { type ApiRequest, type ConsoleData, HttpError, httpErrorOf } from './api-types.js';

const hex = (bytes: number, what: string) =>
  z
    .string({ error: `${what}: ${bytes * 2} hexadecimal characters` })
    .trim()
    .regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`), {
      error: `${what}: ${bytes * 2} hexadecimal characters`,
    })
    .transform((s) => s.toLowerCase());

const codecSchema = z.enum(['none', 'cayenne-lpp']).default('none');

const addDeviceSchema = z.strictObject({
  devEui: hex(8, 'DevEUI'),
  name: z.string().trim().min(1, { error: 'name: give the device a name' }).max(64),
  applicationId: z.string().trim().min(1).max(64).default('farm'),
  codec: codecSchema,
  plotId: z.string().trim().max(64).optional(),
  activation: z.discriminatedUnion(
    'mode',
    [
      z.strictObject({ mode: z.literal('otaa'), joinEui: hex(8, 'JoinEUI'), appKey: hex(16, 'AppKey') }),
      z.strictObject({
        mode: z.literal('abp'),
        devAddr: hex(4, 'DevAddr'),
        nwkSKey: hex(16, 'NwkSKey'),
        appSKey: hex(16, 'AppSKey'),
      }),
    ],
    { error: 'activation: OTAA (joinEui, appKey) or ABP (devAddr, nwkSKey, appSKey)' },
  ),
});

const editDeviceSchema = z.strictObject({
  name: z.string().trim().min(1, { error: 'name: give the device a name' }).max(64).optional(),
  applicationId: z.string().trim().min(1).max(64).optional(),
  plotId: z.string().trim().max(64).nullable().optional(),
});

const downlinkSchema = z.strictObject({
  fPort: z.number({ error: 'fPort: an integer 1..223' }).int().min(1).max(223),
  hex: z
    .string()
    .trim()
    .regex(/^([0-9a-fA-F]{2}){1,51}$/, { error: 'payload: 1..51 bytes as hexadecimal, e.g. 0102ff' }),
  confirmed: z.boolean().default(false),
});

const plotImportSchema = z.strictObject({
  type: z.literal('FeatureCollection', { error: 'a GeoJSON FeatureCollection' }),
  features: z
    .array(
      z.object({
        type: z.literal('Feature'),
        id: z.union([z.string(), z.number()]).optional(),
        properties: z.record(z.string(), z.unknown()).nullable().optional(),
        geometry: z.unknown(),
      }),
    )
    .max(1000),
});

const RANGES: Record<string, number> = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  const message = issue?.message ?? 'invalid request';
  throw new HttpError(400, message.includes(':') ? message : `${where}${message}`);
}

function devEuiOf(segment: string | undefined): string {
  if (!segment || !/^[0-9a-fA-F]{16}$/.test(segment)) throw new HttpError(404, 'no such device');
  return segment.toLowerCase();
}

/** EUDR (Regulation (EU) 2023/1115, Art. 2(28)): a plot over 4 ha needs a polygon, a point suffices below. */
export function eudrRule(areaHa: number, geometryType: string): { ok: boolean; rule: string } {
  if (areaHa > 4 && geometryType !== 'Polygon') {
    return { ok: false, rule: 'over 4 ha: EUDR needs a polygon of the plot' };
  }
  return { ok: true, rule: areaHa > 4 ? 'over 4 ha: polygon given' : 'up to 4 ha: a point is enough' };
}

export async function handleApi(data: ConsoleData, req: ApiRequest): Promise<unknown> {
  const [head, id, sub] = req.segments;
  const route = `${req.method} ${head ?? ''}${id !== undefined ? '/:id' : ''}${sub ? `/${sub}` : ''}`;
  switch (route) {
    case 'GET overview':
      return data.overview();
    case 'GET devices':
      return data.health.list(data.now());
    case 'GET heard':
      return data.health.heardButNotRegistered();
    case 'POST devices': {
      const input = parse(addDeviceSchema, req.body);
      if (await data.repository.getDevice(input.devEui)) {
        throw new HttpError(
          409,
          `a device with DevEUI ${input.devEui} is already registered`,
          'edit it instead',
        );
      }
      const device = await addDevice(
        data.repository,
        {
          devEui: input.devEui,
          name: input.name,
          applicationId: input.applicationId,
          codec: { kind: input.codec } as CodecRef,
          activation: input.activation as Activation,
          ...(input.plotId ? { plotId: input.plotId } : {}),
        },
        data.regionId,
      );
      return { devEui: device.devEui, name: device.name };
    }
    case 'GET devices/:id': {
      const device = await data.repository.getDevice(devEuiOf(id));
      if (!device) throw new HttpError(404, 'no such device');
      const rows = await data.health.list(data.now());
      return rows.find((r) => r.devEui === device.devEui);
    }
    case 'PUT devices/:id': {
      const devEui = devEuiOf(id);
      const edit = parse(editDeviceSchema, req.body);
      const device = await data.repository.getDevice(devEui);
      if (!device) throw new HttpError(404, 'no such device');
      const { plotId: _old, ...rest } = device;
      const plotId = edit.plotId === null ? undefined : (edit.plotId ?? device.plotId);
      const next = validateDevice(
        {
          ...rest,
          name: edit.name ?? device.name,
          applicationId: edit.applicationId ?? device.applicationId,
          ...(plotId ? { plotId } : {}),
        },
        data.regionId,
      );
      await data.repository.putDevice(next);
      return { devEui, name: next.name };
    }
    case 'DELETE devices/:id': {
      await removeDevice(data.repository, devEuiOf(id));
      return { removed: id?.toLowerCase() };
    }
    case 'GET devices/:id/series': {
      const range = req.query.get('range') ?? '24h';
      const span = RANGES[range];
      if (!span) throw new HttpError(400, `range: one of ${Object.keys(RANGES).join(', ')}`);
      const until = data.now();
      return deviceSeries(data.db, {
        devEui: devEuiOf(id),
        sinceMs: until - span,
        untilMs: until,
        buckets: 240,
      });
    }
    case 'GET devices/:id/uplinks': {
      const limit = Math.max(1, Math.min(500, Number(req.query.get('limit') ?? 50) || 50));
      return listUplinks(data.db, { devEui: devEuiOf(id) }, limit);
    }
    case 'POST devices/:id/downlink': {
      const devEui = devEuiOf(id);
      const input = parse(downlinkSchema, req.body);
      const queued = await data.ns.enqueueDownlink(devEui, {
        fPort: input.fPort,
        confirmed: input.confirmed,
        data: Uint8Array.from(Buffer.from(input.hex, 'hex')),
      });
      return { id: queued };
    }
    case 'GET plots': {
      const plots = await listPlots(data.db);
      return plots.map((p) => ({ ...p, eudr: eudrRule(p.areaHa, p.geometry.type) }));
    }
    case 'GET plots.geojson':
      return plotsToGeoJson(await listPlots(data.db));
    case 'POST plots': {
      const collection = parse(plotImportSchema, req.body);
      // Validate every feature before storing any, so a bad file changes nothing.
      const plots = collection.features.map((f, i) => {
        const props = f.properties ?? {};
        try {
          return validatePlot({
            id: props.id ?? f.id ?? undefined,
            name: props.name,
            areaHa: props.areaHa,
            geometry: f.geometry,
          });
        } catch (err) {
          throw new HttpError(400, `feature ${i + 1}: ${(err as Error).message}`);
        }
      });
      for (const plot of plots) await putPlot(data.db, plot);
      return { imported: plots.length };
    }
    case 'DELETE plots/:id': {
      if (!(await removePlot(data.db, id ?? ''))) throw new HttpError(404, 'no such plot');
      return { removed: id };
    }
    case 'GET bundles': {
      const docs = await data.db.bundles.find({ sort: [{ id: 'desc' }], limit: 100 }).exec();
      return docs.map((d) => ({
        seq: d.seq,
        kind: d.kind,
        fromMs: d.fromMs,
        toMs: d.toMs,
        uplinks: d.uplinkCount,
        bytes: Math.floor((d.cose.length * 3) / 4),
        digest: d.digest,
        syncState: d.syncState,
        ...(d.ackedAt !== undefined ? { ackedAt: d.ackedAt } : {}),
      }));
    }
    case 'POST doctor': {
      if (!data.doctor) throw new HttpError(409, 'doctor is not available in this gateway');
      return data.doctor();
    }
    case 'POST seal': {
      if (!data.sealNow) {
        throw new HttpError(
          409,
          'sealing is off: no gateway key',
          'run `maverick init` or `maverick keys rotate`',
        );
      }
      return { sealed: await data.sealNow() };
    }
    default:
      throw new HttpError(404, `no route ${req.method} /api/${req.segments.join('/')}`);
  }
}

export function plotsToGeoJson(plots: Awaited<ReturnType<typeof listPlots>>): Record<string, unknown> {
  return {
    type: 'FeatureCollection',
    features: plots.map((p) => ({
      type: 'Feature',
      id: p.id,
      properties: { id: p.id, name: p.name, areaHa: p.areaHa },
      geometry: p.geometry,
    })),
  };
}
