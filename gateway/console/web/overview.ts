import { api } from './client.js';
import { ago, bytes, errorBox, h } from './dom.js';

interface Overview {
  gatewayId: string;
  region: string;
  radio: Record<string, { state: string; uplinks: number; lastUplinkAt?: string }>;
  devices: { registered: number; heardLastHour: number; heardLastDay: number };
  store: { sizeBytes: number; quotaBytes: number };
  outbox: { depth: number };
  links: Record<string, { state: string; bytesSent: number }>;
  satelliteDailyBytes?: number;
  lastSealed: { seq: number; at: number; uplinks: number } | null;
  lastAcked: { seq: number; at: number | null } | null;
  clock: { source: string; lastGpsTime?: string };
  uplinks: { received: number };
}

function stat(label: string, value: string, detail?: string): HTMLElement {
  return h(
    'div',
    { class: 'stat' },
    h('dt', {}, label),
    h('dd', {}, value, detail ? h('small', {}, ` ${detail}`) : null),
  );
}

interface DoctorCheck {
  id: string;
  status: 'ok' | 'warn' | 'fail';
  finding: string;
  fix?: string;
}

/** `maverick doctor` on demand: it takes a few seconds (it probes the broker, the clock, the disk). */
function doctorPanel(): HTMLElement {
  const list = h('ul', { class: 'doctor' });
  const error = errorBox();
  const button = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        button.setAttribute('disabled', '');
        error.textContent = '';
        list.replaceChildren(h('li', {}, 'Checking…'));
        try {
          const report = await api<{ checks: DoctorCheck[] }>('POST', 'doctor');
          list.replaceChildren(
            ...report.checks.map((c) =>
              h(
                'li',
                { class: c.status },
                h('strong', {}, `${c.status.toUpperCase()} ${c.id}: `),
                c.finding,
                c.fix ? h('div', { class: 'fix' }, `Fix: ${c.fix}`) : null,
              ),
            ),
          );
        } catch (err) {
          list.replaceChildren();
          error.textContent = (err as Error).message;
        } finally {
          button.removeAttribute('disabled');
        }
      },
    },
    'Run doctor',
  );
  return h('div', { class: 'card' }, h('h3', {}, 'Doctor'), button, error, list);
}

export async function overviewView(): Promise<HTMLElement> {
  const o = await api<Overview>('GET', 'overview');
  const radios = Object.entries(o.radio);
  const links = Object.entries(o.links);
  return h(
    'section',
    { 'aria-labelledby': 'overview-title' },
    h('h2', { id: 'overview-title' }, 'Overview'),
    h(
      'dl',
      { class: 'stats' },
      stat('Gateway', o.gatewayId, o.region),
      stat(
        'Devices',
        `${o.devices.registered} registered`,
        `${o.devices.heardLastHour} heard in 1 h, ${o.devices.heardLastDay} in 24 h`,
      ),
      ...radios.map(([kind, r]) => stat(`Radio ${kind}`, r.state, `${r.uplinks} uplinks`)),
      stat('Store', bytes(o.store.sizeBytes), `of ${bytes(o.store.quotaBytes)} quota`),
      stat('Outbox', `${o.outbox.depth} waiting`),
      ...(links.length
        ? links.map(([link, l]) => stat(`Link ${link}`, l.state, `${bytes(l.bytesSent)} sent`))
        : [stat('Links', 'none configured', 'bundles wait in the outbox')]),
      ...(o.satelliteDailyBytes ? [stat('Satellite budget', `${bytes(o.satelliteDailyBytes)} / day`)] : []),
      stat(
        'Last sealed',
        o.lastSealed ? `#${o.lastSealed.seq}` : 'none yet',
        o.lastSealed ? ago(o.lastSealed.at) : undefined,
      ),
      stat(
        'Last acknowledged',
        o.lastAcked ? `#${o.lastAcked.seq}` : 'none yet',
        o.lastAcked?.at ? ago(o.lastAcked.at) : undefined,
      ),
      stat('Clock', o.clock.source),
      stat('Uplinks since start', String(o.uplinks.received)),
    ),
    doctorPanel(),
  );
}
