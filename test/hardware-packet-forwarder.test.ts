/**
 * Every packet-forwarder profile in hardware/packet-forwarder/ parses as strict
 * JSON, matches the layout lora_pkt_fwd expects for its chip, keeps every
 * channel inside its radio's window and the region's band, and sends to
 * Maverick on 127.0.0.1:1700. The checker itself is shown to catch mistakes.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkForwarderConf, stripJsonComments } from '../gateway/doctor/index.js';
import { getRegion, PLAN_IDS } from '../proto/regions/index.js';

const dir = resolve(import.meta.dirname, '..', 'hardware', 'packet-forwarder');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
const boards = {
  rak2287: 'sx1302',
  rak5146: 'sx1302',
  wm1302: 'sx1302',
  corecell: 'sx1302',
  rak2245: 'sx1301',
  ic880a: 'sx1301',
};
const load = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, file), 'utf8'));

describe('packet-forwarder profiles', () => {
  it('has every plan of proto/regions for every board the issue names', () => {
    const expected = Object.keys(boards).flatMap((b) => PLAN_IDS.map((p) => `${b}-${p.toLowerCase()}.json`));
    expect(files.sort()).toEqual(expected.sort());
  });

  it('the generated profiles are what scripts/forwarder-profiles.mjs makes from proto/regions', () => {
    const script = resolve(import.meta.dirname, '..', 'scripts', 'forwarder-profiles.mjs');
    const run = spawnSync(process.execPath, ['--import', 'tsx', script, '--check'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('cites a source for every profile in the README table', () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    for (const file of files) {
      const row = readme.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${file}\``));
      expect(row, `${file} has no README row`).toBeDefined();
      expect(row).toMatch(/Semtech/);
    }
  });

  for (const file of files) {
    it(`${file} matches the forwarder's layout, radio plan and ports`, () => {
      const name = file.replace('.json', '');
      const board = name.slice(0, name.indexOf('-')) as keyof typeof boards;
      const region = getRegion(name.slice(name.indexOf('-') + 1)).id;
      const json = load(file);
      const report = checkForwarderConf(json, region);
      expect(report.problems).toEqual([]);
      expect(report.chip).toBe(boards[board]);
      expect(report.gatewayConf).toMatchObject({
        server_address: '127.0.0.1',
        serv_port_up: 1700,
        serv_port_down: 1700,
      });
      // The gateway hears every channel Maverick's network hands its devices.
      for (const c of getRegion(region).uplinkChannels) expect(report.channelsHz).toContain(c.frequencyHz);
    });
  }
});

describe('the forwarder config checker catches mistakes', () => {
  const sx1302 = load('rak2287-eu868.json');
  const sx1301 = load('ic880a-eu868.json');
  const edit = (
    json: Record<string, unknown>,
    change: (copy: Record<string, Record<string, unknown>>) => void,
  ) => {
    const copy = structuredClone(json) as Record<string, Record<string, unknown>>;
    change(copy);
    return copy;
  };

  it('a channel outside its radio window (SX1301 window is 925 kHz for 125 kHz channels)', () => {
    const bad = edit(sx1301, (c) => {
      c.SX1301_conf.chan_multiSF_7 = { enable: true, radio: 0, if: 500000 };
    });
    expect(checkForwarderConf(bad, 'EU868').problems.join()).toMatch(/chan_multiSF_7: if 500000 .* window/);
  });

  it('an SX1302 file may use IFs the SX1301 could not (1.6 MHz window)', () => {
    const wide = edit(sx1302, (c) => {
      c.SX130x_conf.chan_multiSF_7 = { enable: true, radio: 0, if: 600000 };
    });
    expect(checkForwarderConf(wide).problems).toEqual([]);
    // With the region given, the channel it moved away (867.9 MHz) is missed, and nothing else.
    expect(checkForwarderConf(wide, 'EU868').problems).toEqual([
      expect.stringMatching(/^no channel on 867\.9 MHz, where EU868 devices send/),
    ]);
  });

  it('a channel outside the region band, and a transmit range outside it', () => {
    expect(checkForwarderConf(sx1302, 'US915').problems.join()).toMatch(/outside the US915 band/);
    expect(checkForwarderConf(sx1302, 'US915').problems.join()).toMatch(
      /transmit range .* leaves the US915 band/,
    );
  });

  it('missing sections, wrong types and mixed layouts', () => {
    const noStd = edit(sx1302, (c) => {
      delete c.SX130x_conf.chan_Lora_std;
    });
    expect(checkForwarderConf(noStd).problems.join()).toContain('SX130x_conf.chan_Lora_std is missing');
    const badPort = edit(sx1302, (c) => {
      c.gateway_conf.serv_port_up = '1700';
    });
    expect(checkForwarderConf(badPort).problems.join()).toContain(
      'gateway_conf.serv_port_up: "1700" is not allowed',
    );
    expect(checkForwarderConf({ ...sx1302, SX1301_conf: {} }).problems[0]).toMatch(/exactly one of/);
    expect(checkForwarderConf('nope').chip).toBeUndefined();
  });

  it('a channel on a disabled radio', () => {
    const bad = edit(sx1301, (c) => {
      (c.SX1301_conf.radio_1 as Record<string, unknown>).enable = false;
    });
    expect(checkForwarderConf(bad, 'EU868').problems.join()).toMatch(/uses radio_1, which is disabled/);
  });

  it('strips C and C++ comments outside strings, as lora_pkt_fwd accepts them', () => {
    const text = '{ /* block */ "a": "/dev/spidev0.0", // line\n "b": "x//y/*z*/" }';
    expect(JSON.parse(stripJsonComments(text))).toEqual({ a: '/dev/spidev0.0', b: 'x//y/*z*/' });
  });

  it("names the plan's channels a profile does not hear (US915 sub-band 2 profile, gateway on sub-band 1)", () => {
    const sub2 = load('rak2287-us915.json');
    const problems = checkForwarderConf(sub2, 'US915-SB1').problems.join();
    expect(problems).toMatch(/no channel on 902\.3 MHz, 902\.5 MHz/);
    expect(problems).toMatch(/903 MHz, where US915-SB1 devices send/);
    expect(checkForwarderConf(sub2, 'US915-SB2').problems).toEqual([]);
  });

  it('never throws on arbitrary JSON values (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.constantFrom(undefined, 'EU868' as const, 'US915' as const),
        (value, region) => {
          checkForwarderConf(value, region);
          checkForwarderConf({ SX130x_conf: value, gateway_conf: value }, region);
          checkForwarderConf({ SX1301_conf: value }, region);
        },
      ),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        stripJsonComments(text);
      }),
      { numRuns: 2000 },
    );
  });
});
