/** The registered plots drawn as SVG (no map tiles: offline), GeoJSON import and export, and the EUDR rule per plot. */
import { ApiError, api } from './client.js';
import { errorBox, field, h, svg, toast } from './dom.js';

interface Plot {
  id: string;
  name: string;
  areaHa: number;
  geometry:
    | { type: 'Point'; coordinates: [number, number] }
    | { type: 'Polygon'; coordinates: [number, number][][] };
  eudr: { ok: boolean; rule: string };
}

function positions(p: Plot): [number, number][] {
  return p.geometry.type === 'Point' ? [p.geometry.coordinates] : p.geometry.coordinates.flat();
}

/** Equirectangular projection scaled by cos(latitude): fine for a farm's few kilometres. */
function drawing(plots: Plot[]): SVGElement {
  const all = plots.flatMap(positions);
  const root = svg('svg', { viewBox: '0 0 320 220', role: 'img', class: 'plots-map' });
  const title = svg('title', {});
  title.textContent = `Map of ${plots.length} plots`;
  root.append(title);
  if (all.length === 0) return root;
  const lats = all.map((p) => p[1]);
  const lons = all.map((p) => p[0]);
  const k = Math.cos((((Math.min(...lats) + Math.max(...lats)) / 2) * Math.PI) / 180);
  const minX = Math.min(...lons) * k;
  const maxX = Math.max(...lons) * k;
  const minY = Math.min(...lats);
  const maxY = Math.max(...lats);
  const span = Math.max(maxX - minX, maxY - minY, 1e-6);
  const x = (lon: number) => 10 + ((lon * k - minX) / span) * 300;
  const y = (lat: number) => 210 - ((lat - minY) / span) * 200;
  for (const p of plots) {
    if (p.geometry.type === 'Point') {
      const [lon, lat] = p.geometry.coordinates;
      root.append(svg('circle', { cx: x(lon), cy: y(lat), r: 5, class: p.eudr.ok ? 'plot' : 'plot bad' }));
    } else {
      const ring = p.geometry.coordinates[0] ?? [];
      root.append(
        svg('polygon', {
          points: ring.map(([lon, lat]) => `${x(lon).toFixed(1)},${y(lat).toFixed(1)}`).join(' '),
          class: p.eudr.ok ? 'plot' : 'plot bad',
        }),
      );
    }
    const [lon, lat] = positions(p)[0] ?? [0, 0];
    const label = svg('text', { x: x(lon) + 6, y: y(lat) - 6, class: 'plot-label' });
    label.textContent = p.name;
    root.append(label);
  }
  return root;
}

export async function plotsView(): Promise<HTMLElement> {
  const plots = await api<Plot[]>('GET', 'plots');
  const file = h('input', {
    type: 'file',
    accept: '.geojson,.json,application/geo+json,application/json',
    name: 'geojson',
  });
  const error = errorBox();
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (!f) return;
    error.textContent = '';
    try {
      const body = JSON.parse(await f.text());
      const result = await api<{ imported: number }>('POST', 'plots', body);
      toast(`${result.imported} plots imported`);
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : `not GeoJSON: ${(err as Error).message}`;
    }
  });
  return h(
    'section',
    { 'aria-labelledby': 'plots-title' },
    h('h2', { id: 'plots-title' }, 'Plots'),
    drawing(plots),
    plots.length === 0
      ? h('p', { class: 'muted' }, 'No plots yet: import a GeoJSON file.')
      : h(
          'ul',
          { class: 'plots' },
          ...plots.map((p) =>
            h(
              'li',
              {},
              h('strong', {}, p.name),
              ` ${p.areaHa} ha, ${p.geometry.type} — `,
              h('span', { class: p.eudr.ok ? 'ok' : 'error' }, p.eudr.rule),
            ),
          ),
        ),
    h(
      'div',
      { class: 'card' },
      h('h3', {}, 'GeoJSON'),
      field('Import plots (FeatureCollection)', file),
      h(
        'a',
        { href: '/api/plots.geojson', download: 'plots.geojson', class: 'button' },
        'Export plots.geojson',
      ),
      error,
    ),
  );
}
