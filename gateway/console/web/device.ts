/** One device: health, charts of every field (24 h / 7 d / 30 d), RSSI/SNR, FCnt gaps, raw uplinks, a downlink form, edit and remove. */

import { lineChart } from './chart.js';
import { ApiError, api, type DeviceRow, type UpEvent } from './client.js';
import { ago, errorBox, field, h, toast } from './dom.js';

interface Series {
  t: number[];
  fields: Record<string, (number | null)[]>;
  uplinks: number;
  sinceMs: number;
  untilMs: number;
  gaps: { afterFCnt: number; missing: number; atMs: number }[];
}

interface Uplink {
  fCnt: number;
  fPort?: number;
  receivedAt: string;
  rssi?: number;
  snr?: number;
  data?: string;
  object?: Record<string, unknown>;
}

const UNITS: Record<string, string> = { rssi: 'dBm', snr: 'dB' };

function hexOf(base64: string | undefined): string {
  if (!base64) return '';
  return Array.from(atob(base64), (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
}

export interface DeviceView {
  element: HTMLElement;
  onUp(up: UpEvent): void;
}

export async function deviceView(devEui: string): Promise<DeviceView> {
  const device = await api<DeviceRow>('GET', `devices/${devEui}`);
  let range = '24h';
  const charts = h('div', { class: 'charts' });
  const gaps = h('div');
  const log = h('tbody');

  const loadCharts = async () => {
    const s = await api<Series>('GET', `devices/${devEui}/series?range=${range}`);
    const names = Object.keys(s.fields);
    charts.replaceChildren(
      ...(names.length === 0
        ? [h('p', { class: 'muted' }, `No uplinks in the last ${range}.`)]
        : names.map((n) => lineChart(n, s.t, s.fields[n] ?? [], [s.sinceMs, s.untilMs], UNITS[n]))),
    );
    gaps.replaceChildren(
      s.gaps.length === 0
        ? h('p', { class: 'muted' }, 'No frame counter gaps: every uplink was heard.')
        : h(
            'ul',
            {},
            ...s.gaps.map((g) => h('li', {}, `${g.missing} lost after FCnt ${g.afterFCnt} (${ago(g.atMs)})`)),
          ),
    );
  };
  const logRow = (u: Uplink) =>
    h(
      'tr',
      {},
      h('td', {}, u.fCnt),
      h('td', {}, new Date(u.receivedAt).toLocaleTimeString()),
      h('td', {}, u.fPort ?? ''),
      h('td', {}, u.rssi ?? ''),
      h('td', {}, u.snr ?? ''),
      h('td', { class: 'mono' }, u.object ? JSON.stringify(u.object) : hexOf(u.data)),
    );
  const loadLog = async () => {
    const uplinks = await api<Uplink[]>('GET', `devices/${devEui}/uplinks?limit=50`);
    log.replaceChildren(...uplinks.reverse().map(logRow));
  };
  await Promise.all([loadCharts(), loadLog()]);

  const rangeButtons = ['24h', '7d', '30d'].map((r) =>
    h(
      'button',
      {
        type: 'button',
        'aria-pressed': r === range ? 'true' : 'false',
        onclick: async (event: Event) => {
          range = r;
          for (const b of rangeButtons)
            b.setAttribute('aria-pressed', b === event.currentTarget ? 'true' : 'false');
          await loadCharts();
        },
      },
      r,
    ),
  );

  const fPort = h('input', {
    type: 'number',
    min: 1,
    max: 223,
    value: 10,
    name: 'fPort',
    inputmode: 'numeric',
  });
  const payload = h('input', {
    name: 'payload',
    placeholder: 'e.g. 0102ff',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const confirmed = h('input', { type: 'checkbox', name: 'confirmed', id: 'dl-confirmed' });
  const downlinkError = errorBox();
  const downlink = h(
    'form',
    {
      class: 'card',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        downlinkError.textContent = '';
        try {
          await api('POST', `devices/${devEui}/downlink`, {
            fPort: Number(fPort.value),
            hex: payload.value.trim(),
            confirmed: confirmed.checked,
          });
          toast('Downlink queued: it goes out after the device’s next uplink');
          payload.value = '';
        } catch (err) {
          downlinkError.textContent = err instanceof ApiError ? err.message : String(err);
        }
      },
    },
    h('h3', {}, 'Queue a downlink'),
    field('FPort', fPort),
    field('Payload (hex)', payload),
    h('div', { class: 'check' }, confirmed, h('label', { for: 'dl-confirmed' }, 'Confirmed')),
    h('button', { type: 'submit', class: 'primary' }, 'Queue downlink'),
    downlinkError,
  );

  const rename = async () => {
    const next = prompt('New name for this device', device.name);
    if (!next || next.trim() === device.name) return;
    try {
      await api('PUT', `devices/${devEui}`, { name: next.trim() });
      toast('Renamed');
      title.textContent = next.trim();
    } catch (err) {
      toast((err as Error).message);
    }
  };
  const remove = async () => {
    if (!confirm(`Remove ${device.name} (${devEui})? Its session is deleted; its uplinks stay in the store.`))
      return;
    try {
      await api('DELETE', `devices/${devEui}`);
      toast(`Removed ${device.name}`);
      location.hash = '#/devices';
    } catch (err) {
      toast((err as Error).message);
    }
  };
  const title = h('h2', { id: 'device-title' }, device.name);

  const element = h(
    'section',
    { 'aria-labelledby': 'device-title' },
    title,
    h(
      'p',
      { class: 'muted' },
      h('span', { class: 'mono' }, devEui),
      ` · ${device.activation.toUpperCase()} · last seen ${ago(device.lastSeenMs)} · FCnt ${device.fCnt ?? '–'} · ${device.uplinks24h} uplinks in 24 h`,
    ),
    device.lastError ? h('p', { class: 'error' }, `Last error: ${device.lastError.message}`) : null,
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', onclick: rename }, 'Rename'),
      h('button', { type: 'button', class: 'danger', onclick: remove }, 'Remove'),
    ),
    h('h3', {}, 'Charts'),
    h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time range' }, ...rangeButtons),
    charts,
    h('h3', {}, 'Frame counter gaps'),
    gaps,
    downlink,
    h('h3', {}, 'Recent uplinks'),
    h(
      'div',
      { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Recent uplinks' },
      h(
        'table',
        { class: 'log' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['FCnt', 'Time', 'Port', 'RSSI', 'SNR', 'Payload'].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        log,
      ),
    ),
  );
  return {
    element,
    onUp(up) {
      if (up.devEui !== devEui) return;
      log.prepend(
        logRow({
          fCnt: up.fCnt,
          fPort: up.fPort,
          receivedAt: up.time,
          rssi: up.rssi,
          snr: up.snr,
          ...(up.object ? { object: up.object } : {}),
        }),
      );
      while (log.children.length > 50) log.lastElementChild?.remove();
    },
  };
}
