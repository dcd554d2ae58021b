/** The device table: sortable columns, a search box, live updates from the event stream. */
import { api, type DeviceRow, type UpEvent } from './client.js';
import { ago, h } from './dom.js';

type Key = 'name' | 'devEui' | 'lastSeenMs' | 'rssi' | 'battery' | 'fCnt' | 'uplinks24h' | 'lastError';

const COLUMNS: { key: Key; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'devEui', label: 'DevEUI' },
  { key: 'lastSeenMs', label: 'Last seen' },
  { key: 'rssi', label: 'RSSI / SNR' },
  { key: 'battery', label: 'Battery' },
  { key: 'fCnt', label: 'FCnt' },
  { key: 'uplinks24h', label: '24 h' },
  { key: 'lastError', label: 'Last error' },
];

function battery(b: number | undefined): string {
  if (b === undefined || b === 255) return '–';
  if (b === 0) return 'mains';
  return `${Math.round((b / 254) * 100)} %`;
}

function sortValue(row: DeviceRow, key: Key): string | number {
  if (key === 'lastError') return row.lastError?.atMs ?? 0;
  const v = row[key];
  return v ?? (typeof row.name === 'string' && (key === 'name' || key === 'devEui') ? '' : -Infinity);
}

export interface DevicesView {
  element: HTMLElement;
  onUp(up: UpEvent): void;
}

export async function devicesView(): Promise<DevicesView> {
  const rows = await api<DeviceRow[]>('GET', 'devices');
  let sortKey: Key = 'name';
  let ascending = true;
  const search = h('input', {
    type: 'search',
    id: 'device-search',
    placeholder: 'name or DevEUI',
    autocomplete: 'off',
  });
  const tbody = h('tbody');
  const headRow = h('tr');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });

  const render = () => {
    const q = search.value.trim().toLowerCase();
    const shown = rows
      .filter((r) => !q || r.name.toLowerCase().includes(q) || r.devEui.includes(q))
      .sort((a, b) => {
        const x = sortValue(a, sortKey);
        const y = sortValue(b, sortKey);
        const c = typeof x === 'string' && typeof y === 'string' ? x.localeCompare(y) : Number(x) - Number(y);
        return ascending ? c : -c;
      });
    const now = Date.now();
    tbody.replaceChildren(
      ...shown.map((r) =>
        h(
          'tr',
          { 'data-dev-eui': r.devEui },
          h('th', { scope: 'row' }, h('a', { href: `#/device/${r.devEui}` }, r.name)),
          h('td', { class: 'mono' }, r.devEui),
          h('td', { 'data-col': 'last-seen' }, ago(r.lastSeenMs, now)),
          h('td', { 'data-col': 'rssi' }, r.rssi === undefined ? '–' : `${r.rssi} / ${r.snr ?? '–'}`),
          h('td', {}, battery(r.battery)),
          h('td', { 'data-col': 'fcnt' }, r.fCnt ?? '–'),
          h('td', { 'data-col': 'uplinks24h' }, r.uplinks24h),
          h('td', { class: 'err' }, r.lastError?.message ?? ''),
        ),
      ),
    );
    count.textContent = `${shown.length} of ${rows.length} devices`;
    headRow.replaceChildren(
      ...COLUMNS.map((c) =>
        h(
          'th',
          {
            scope: 'col',
            'aria-sort': c.key === sortKey ? (ascending ? 'ascending' : 'descending') : 'none',
          },
          h(
            'button',
            {
              type: 'button',
              class: 'sort',
              onclick: () => {
                ascending = c.key === sortKey ? !ascending : true;
                sortKey = c.key;
                render();
              },
            },
            c.label,
            c.key === sortKey ? (ascending ? ' ▲' : ' ▼') : '',
          ),
        ),
      ),
    );
  };
  search.addEventListener('input', render);
  render();

  const element = h(
    'section',
    { 'aria-labelledby': 'devices-title' },
    h(
      'div',
      { class: 'row' },
      h('h2', { id: 'devices-title' }, 'Devices'),
      h('a', { href: '#/devices/add', class: 'button primary' }, 'Add device'),
    ),
    h('div', { class: 'field' }, h('label', { for: 'device-search' }, 'Search devices'), search),
    count,
    h(
      'div',
      { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Device table' },
      h('table', { class: 'devices' }, h('thead', {}, headRow), tbody),
    ),
  );
  return {
    element,
    onUp(up) {
      const row = rows.find((r) => r.devEui === up.devEui);
      if (!row) return;
      row.lastSeenMs = Date.parse(up.time) || Date.now();
      row.fCnt = up.fCnt;
      if (up.rssi !== undefined) row.rssi = up.rssi;
      if (up.snr !== undefined) row.snr = up.snr;
      row.uplinks24h++;
      if (up.errors?.length) row.lastError = { message: `codec: ${up.errors.join('; ')}`, atMs: Date.now() };
      render();
    },
  };
}
