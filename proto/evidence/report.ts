/**
 * The human-readable report of a verified pack (Markdown): each claim in words, and how each
 * was verified. The CLI writes it and the HTML page renders the same text, so a reader sees
 * one account whichever verifier they ran.
 */
import { fixedText } from './claims.js';
import { hex } from './hash.js';
import type { PackVerification } from './verify.js';

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const pct = (n: number, of: number) => (of === 0 ? '0 %' : `${((100 * n) / of).toFixed(1)} %`);

export function reportMarkdown(v: PackVerification): string {
  const out: string[] = [];
  const c = v.claims;
  out.push(`# Evidence pack${c ? ` for plot ${c.plotId}, ${day(c.from)} to ${day(c.to)}` : ''}`, '');
  out.push(
    `**Verdict: ${v.ok ? 'VALID' : 'INVALID'}** (${v.checks.filter((x) => x.ok).length} of ${v.checks.length} checks hold; pack ${v.packBytes} bytes).`,
    '',
  );
  if (v.regionalKid) {
    out.push(
      v.regionalPinned === undefined
        ? `Signed by regional key ${v.regionalKid}. Compare it with the key the regional node publishes: the verifier was not given one to pin.`
        : `Signed by regional key ${v.regionalKid}, ${v.regionalPinned ? 'the key you pinned' : 'NOT the key you pinned'}.`,
      '',
    );
  }
  if (c) {
    const obs = c.observations;
    const t = c.timeSources;
    out.push('## Claims (signed by the regional node)', '');
    out.push(`- Devices: ${c.devices.length} (${c.devices.map(hex).join(', ')})`);
    out.push(
      `- Observations: ${obs} of the ${c.committedLeaves} records the gateways committed to in the period`,
    );
    out.push(
      `- Coverage: ${c.daysCovered} of ${c.days} days, ${c.hoursCovered} of ${c.hours} hours (${pct(c.hoursCovered, c.hours)})`,
    );
    out.push(`- Observations by hour of day (UTC): ${c.hourOfDay.join(' ')}`);
    out.push(
      `- Time sources: GPS ${pct(t.gps, obs)}, NTP ${pct(t.ntp, obs)}, unsynchronised ${pct(t.unsynced, obs)}`,
    );
    out.push(
      `- Frame counter: ${c.fCnt.gaps} gaps missing ${c.fCnt.missing} frames, ${c.fCnt.resets} counter resets`,
    );
    for (const f of c.fields)
      out.push(`- ${f.field}: ${f.count} readings, min ${fixedText(f.min)}, max ${fixedText(f.max)}`);
    if (c.positions.count > 0)
      out.push(
        `- Positions: ${c.positions.count}${c.positions.insidePlot === null ? ' (plot registered as a point)' : `, ${c.positions.insidePlot} inside the plot polygon`}`,
      );
    out.push('');
  }
  if (v.keys) {
    out.push('## Keys and their registration', '');
    for (const k of v.keys) {
      const until = k.removedAt === null ? 'in use' : `rotated out ${new Date(k.removedAt).toISOString()}`;
      out.push(
        `- ${k.role} ${k.id}: ${hex(k.publicKey)} (registered ${new Date(k.addedAt).toISOString()}, ${until})`,
      );
    }
    out.push('');
  }
  if (v.records.length > 0) {
    out.push('## Spot check: records the nonce drew', '');
    for (const { index, gatewayId, record: r } of v.records) {
      const readings = r.readings.map((x) => `${x.field}=${fixedText(x)}`).join(', ');
      out.push(
        `- #${index} ${gatewayId} ${hex(r.devEui)} FCnt ${r.fCnt} ${new Date(r.time).toISOString()} (${r.timeSource}) plot ${r.plotId ?? '-'}: ${readings}`,
      );
    }
    out.push('');
  }
  out.push('## How it was verified', '');
  for (const x of v.checks) out.push(`- ${x.ok ? 'PASS' : 'FAIL'} ${x.name}: ${x.detail}`);
  out.push('');
  return out.join('\n');
}
