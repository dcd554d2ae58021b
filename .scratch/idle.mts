import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildDatagrams, residentMb, setUpGateway, startGateway, tearDown } from '../bench/gateway-harness.js';
const setup = await setUpGateway(1000);
const cold = buildDatagrams(setup, 1, 200);
for (const opts of (process.env.VARIANTS ?? '').split('|')) {
  const gw = await startGateway(setup, { nodeOptions: opts });
  let sent = 0;
  while (gw.stored() === 0 && sent < cold.length) { gw.sender.send(cold[sent++] as Buffer, setup.udpPort, '127.0.0.1'); await sleep(20); }
  await sleep(Number(process.env.IDLE_MS ?? 3000));
  const st = readFileSync(`/proc/${gw.pid}/status`, 'utf8');
  const pick = (n: string) => /^(\w+):\s+(\d+) kB/m.exec(st.split('\n').find((l) => l.startsWith(n)) ?? '')?.[2];
  const smaps = readFileSync(`/proc/${gw.pid}/smaps`, 'utf8').split('\n');
  const maps: { name: string; rss: number }[] = [];
  let cur = '';
  for (const l of smaps) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(l)) cur = l.split(/\s+/).slice(5).join(' ') || '[anon]';
    else if (l.startsWith('Rss:')) maps.push({ name: cur, rss: Number(l.split(/\s+/)[1]) });
  }
  const by = new Map<string, number>();
  for (const m of maps) by.set(m.name, (by.get(m.name) ?? 0) + m.rss);
  const top = [...by].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([n, r]) => `${(r / 1024).toFixed(1)}MB ${n}`);
  const anonBig = maps.filter((m) => m.name === '[anon]').sort((a, b) => b.rss - a.rss).slice(0, 10).map((m) => (m.rss / 1024).toFixed(1));
  console.log(JSON.stringify({ opts, rss: residentMb(gw.pid).rss.toFixed(1), anon: pick('RssAnon'), file: pick('RssFile'), threads: /Threads:\s+(\d+)/.exec(st)?.[1], top, anonBig }));
  await gw.stop();
}
await tearDown(setup);
