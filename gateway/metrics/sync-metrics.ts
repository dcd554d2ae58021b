/**
 * What the sync engine reports into the gateway's metrics and `/status`: each
 * link's state, and the bytes each link spent (the satellite link's bytes are
 * credit: `maverick_link_bytes_sent_total{link="satellite"}`).
 */
import type { SyncEngine } from '../../kernel/outbox/sync-engine.js';
import type { Metrics } from './metrics.js';

export function watchSync(sync: Pick<SyncEngine, 'on'>, metrics: Metrics): void {
  sync.on('linkState', (change) => metrics.setLinkState(change.link, change.up ? 'up' : 'down'));
  sync.on('bytesSent', ({ link, bytes }) => metrics.linkBytesSent(link, bytes));
}
