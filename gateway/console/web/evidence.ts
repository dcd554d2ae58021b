/** Sealed bundles and daily commitments, where they are (pending / acknowledged), and a button to seal now. */
import { ApiError, api } from './client.js';
import { ago, bytes, errorBox, h, toast } from './dom.js';

interface Bundle {
  seq: number;
  kind: 'bundle' | 'commitment';
  fromMs: number;
  toMs: number;
  uplinks: number;
  bytes: number;
  digest: string;
  syncState: 'pending' | 'acked';
  ackedAt?: number;
}

export async function evidenceView(): Promise<HTMLElement> {
  const bundles = await api<Bundle[]>('GET', 'bundles');
  const error = errorBox();
  const seal = h(
    'button',
    {
      type: 'button',
      class: 'primary',
      onclick: async () => {
        error.textContent = '';
        try {
          const r = await api<{ sealed: { seq: number; uplinks: number }[] }>('POST', 'seal');
          toast(
            r.sealed.length
              ? `Sealed ${r.sealed.map((b) => `#${b.seq} (${b.uplinks} uplinks)`).join(', ')}`
              : 'Nothing new to seal',
          );
          window.dispatchEvent(new HashChangeEvent('hashchange'));
        } catch (err) {
          error.textContent = err instanceof ApiError ? err.message : String(err);
        }
      },
    },
    'Seal now',
  );
  const rows = bundles.map((b) =>
    h(
      'tr',
      {},
      h('td', {}, b.kind === 'bundle' ? `#${b.seq}` : `day ${new Date(b.fromMs).toISOString().slice(0, 10)}`),
      h('td', {}, b.uplinks),
      h('td', {}, bytes(b.bytes)),
      h('td', {}, b.syncState === 'acked' ? `acknowledged ${ago(b.ackedAt)}` : 'waiting to send'),
      h('td', { class: 'mono' }, b.digest.slice(0, 12)),
    ),
  );
  return h(
    'section',
    { 'aria-labelledby': 'evidence-title' },
    h('h2', { id: 'evidence-title' }, 'Evidence'),
    h('div', { class: 'row' }, seal),
    error,
    bundles.length === 0
      ? h('p', { class: 'muted' }, 'Nothing sealed yet.')
      : h(
          'div',
          { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Bundles' },
          h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['Bundle', 'Uplinks', 'Size', 'State', 'SHA-256'].map((c) => h('th', { scope: 'col' }, c)),
              ),
            ),
            h('tbody', {}, ...rows),
          ),
        ),
  );
}
