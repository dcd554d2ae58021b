#!/usr/bin/env node
/**
 * Writes hardware/packet-forwarder/<board>-<plan>.json for every board and every
 * plan from proto/regions, read from source through tsx.
 * Each board's EU868 profile is the template for the dynamic plans and its US915
 * profile for the fixed ones, so the chip layout, gain tables and pins stay the
 * vendor's; only the radio plan changes:
 *   - dynamic plans (AS923-n, IN865, KR920): the plan's eight channels, sorted and
 *     split into two runs that each fit one radio's window (±400 kHz of IF for
 *     125 kHz channels on an SX1301, ±800 kHz on an SX1302); the 250 kHz and FSK
 *     channels are off (Maverick's plans use DR0..DR5 only);
 *   - fixed plans (AU915): the US915 sub-band 2 layout moved to the plan's
 *     sub-band 2 (same channel spacing), downlinks on its eight downstream channels.
 * Usage: node --import tsx scripts/forwarder-profiles.mjs [--check]   (--check: fail if a file would change)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const regions = await import('../proto/regions/index.js');
const dir = join(root, 'hardware', 'packet-forwarder');
const BOARDS = ['rak2287', 'rak5146', 'wm1302', 'corecell', 'rak2245', 'ic880a'];
const check = process.argv.includes('--check');
/** Plans whose profiles are the vendors' reference files themselves (and the templates). */
const REFERENCE_PROFILES = new Set(['eu868', 'us915']);

const load = (file) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
const confOf = (json) => json.SX130x_conf ?? json.SX1301_conf;

function dynamicProfile(template, region) {
  const json = structuredClone(template);
  const conf = confOf(json);
  const sx1302 = json.SX130x_conf !== undefined;
  const maxSpan = sx1302 ? 1_600_000 - 125_000 : 925_000 - 125_000;
  const hz = region.uplinkChannels.map((c) => c.frequencyHz).sort((a, b) => a - b);
  let split = 1;
  while (split < hz.length && hz[split] - hz[0] <= maxSpan) split++;
  const groups = [hz.slice(0, split), hz.slice(split)];
  for (const [r, group] of groups.entries()) {
    if (group.length === 0) continue;
    if (group[group.length - 1] - group[0] > maxSpan)
      throw new Error(`${region.id}: channels do not fit two radios`);
    // Centre on a 100 Hz grid: both the IFs and the radio frequency stay whole numbers.
    conf[`radio_${r}`].freq = Math.round((group[0] + group[group.length - 1]) / 2 / 100) * 100;
  }
  let n = 0;
  for (const [r, group] of groups.entries()) {
    for (const f of group) {
      conf[`chan_multiSF_${n++}`] = { enable: true, radio: r, if: f - conf[`radio_${r}`].freq };
    }
  }
  conf.chan_Lora_std.enable = false;
  conf.chan_FSK.enable = false;
  conf.radio_0.tx_freq_min = region.bandHz[0];
  conf.radio_0.tx_freq_max = region.bandHz[1];
  return json;
}

function fixedProfile(template, region, templateRegion) {
  const json = structuredClone(template);
  const conf = confOf(json);
  const shift = region.uplinkChannels[0].frequencyHz - templateRegion.uplinkChannels[0].frequencyHz;
  conf.radio_0.freq += shift;
  conf.radio_1.freq += shift;
  // Downstream channels: 923.3 + 0.6 n MHz in both plans; keep the template's TX range when it fits the band.
  conf.radio_0.tx_freq_min = Math.max(conf.radio_0.tx_freq_min, region.bandHz[0]);
  conf.radio_0.tx_freq_max = Math.min(conf.radio_0.tx_freq_max, region.bandHz[1]);
  return json;
}

let changed = 0;
for (const region of regions.planRegions()) {
  const plan = region.plan.toLowerCase();
  if (REFERENCE_PROFILES.has(plan)) continue;
  for (const board of BOARDS) {
    const json =
      region.channelPlan === 'dynamic'
        ? dynamicProfile(load(`${board}-eu868.json`), region)
        : fixedProfile(load(`${board}-us915.json`), region, regions.US915);
    const file = join(dir, `${board}-${plan}.json`);
    const text = `${JSON.stringify(json, null, 2)}\n`;
    let before = '';
    try {
      before = readFileSync(file, 'utf8');
    } catch {}
    if (before === text) continue;
    changed++;
    if (check) console.error(`${file} is out of date`);
    else writeFileSync(file, text);
  }
}
if (check && changed > 0) {
  console.error('run: node --import tsx scripts/forwarder-profiles.mjs');
  process.exit(1);
}
console.log(check ? 'profiles up to date' : `${changed} profile(s) written`);
