/** `maverick plot add|list|remove`: the farm's plots (geolocation for the evidence). */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { withGatewayStore } from '../../gateway/store-access.js';
import { areaDisagreement } from '../../kernel/db/plot-geometry.js';
import { listPlots, type PlotGeometry, putPlot, removePlot, validatePlot } from '../../kernel/db/plots.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { printJson, renderTable } from '../format/table.js';
import type { RegisterCommand } from './index.js';

interface AddFlags {
  dataDir: string;
  id: string;
  name: string;
  areaHa: string;
  point?: string;
  polygon?: string;
  geojson?: string;
}

/** "lat,lon" as people copy it from a map → GeoJSON Point [lon, lat]. */
export function geometryFromFlags(
  flags: Pick<AddFlags, 'point' | 'polygon' | 'geojson'>,
): PlotGeometry | unknown {
  const given = [flags.point, flags.polygon, flags.geojson].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new MaverickError(
      ErrorCode.CliUsage,
      'give exactly one of --point LAT,LON, --polygon "LAT,LON;LAT,LON;...", --geojson FILE',
    );
  }
  const pair = (text: string): [number, number] => {
    const [lat, lon] = text.split(',').map((s) => Number(s.trim()));
    if (lat === undefined || lon === undefined || Number.isNaN(lat) || Number.isNaN(lon)) {
      throw new MaverickError(ErrorCode.CliUsage, `"${text}" is not LAT,LON in decimal degrees`);
    }
    return [lon, lat];
  };
  if (flags.point) return { type: 'Point', coordinates: pair(flags.point) };
  if (flags.polygon) {
    const ring = flags.polygon.split(';').map(pair);
    const [first, last] = [ring[0], ring[ring.length - 1]];
    if (first && last && (first[0] !== last[0] || first[1] !== last[1])) ring.push([...first]);
    return { type: 'Polygon', coordinates: [ring] };
  }
  const parsed = JSON.parse(readFileSync(flags.geojson!, 'utf8')) as {
    type?: string;
    geometry?: unknown;
    features?: { geometry?: unknown }[];
  };
  if (parsed.type === 'Feature') return parsed.geometry;
  if (parsed.type === 'FeatureCollection') return parsed.features?.[0]?.geometry;
  return parsed;
}

export const registerPlot: RegisterCommand = (program: Command) => {
  const plot = program.command('plot').description("register and list the farm's plots (EUDR geolocation)");

  plot
    .command('add')
    .description(
      'add or replace a plot: a point (plots up to 4 ha) or a polygon (checked: closed, not self-crossing, area)',
    )
    .requiredOption('--data-dir <dir>', 'data directory')
    .requiredOption('--id <id>', 'plot id (letters, digits, . _ -)')
    .requiredOption('--name <name>', 'plot name')
    .requiredOption('--area-ha <ha>', 'area in hectares')
    .option('--point <lat,lon>', 'centre point in decimal degrees (WGS84)')
    .option('--polygon <lat,lon;...>', 'boundary, positions separated by ";" (closed for you)')
    .option('--geojson <file>', 'a GeoJSON Point or Polygon, Feature or FeatureCollection file')
    .action(async (flags: AddFlags) => {
      const value = validatePlot({
        id: flags.id,
        name: flags.name,
        areaHa: flags.areaHa,
        geometry: geometryFromFlags(flags),
      });
      const warning = areaDisagreement(value.geometry, value.areaHa);
      if (warning) process.stderr.write(`warning: plot ${value.id}: ${warning}\n`);
      await withGatewayStore(flags.dataDir, (db) => putPlot(db, value));
      process.stdout.write(`plot ${value.id} (${value.geometry.type}, ${value.areaHa} ha) saved\n`);
    });

  plot
    .command('list')
    .description('list plots')
    .requiredOption('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (flags: { dataDir: string; json?: boolean }) => {
      const plots = await withGatewayStore(flags.dataDir, (db) => listPlots(db));
      if (flags.json) return printJson(plots);
      process.stdout.write(
        `${renderTable(
          ['id', 'name', 'area ha', 'geometry'],
          plots.map((p) => [p.id, p.name, p.areaHa, p.geometry.type]),
        )}\n`,
      );
    });

  plot
    .command('remove')
    .description('remove a plot')
    .requiredOption('--data-dir <dir>', 'data directory')
    .requiredOption('--id <id>', 'plot id')
    .action(async (flags: { dataDir: string; id: string }) => {
      const removed = await withGatewayStore(flags.dataDir, (db) => removePlot(db, flags.id));
      if (!removed)
        throw new MaverickError(ErrorCode.CliUsage, `no plot ${flags.id}`, {
          hint: 'see `maverick plot list`',
        });
      process.stdout.write(`plot ${flags.id} removed\n`);
    });
};
