/**
 * Network-server uplink throughput on one core: decode + MIC + FCnt + decrypt
 * + MAC/ADR bookkeeping + Cayenne LPP decode + session write (in-memory
 * repository), against the baseline of decodePhy alone. A third figure runs
 * the whole NetworkServer (de-duplication, per-device ordering, events).
 */
import { decodeCayenneLpp, encodeCayenneLpp } from '../kernel/codec/index.js';
import type { CollectedUplink } from '../kernel/ns/dedup.js';
import { FakeRadio, rxMeta } from '../kernel/ns/fake-radio.test-helpers.js';
import { MemoryNetworkRepository } from '../kernel/ns/memory-repository.test-helpers.js';
import { NetworkServer } from '../kernel/ns/network-server.js';
import { addDevice } from '../kernel/ns/registry.js';
import { TestDevice } from '../kernel/ns/test-device.test-helpers.js';
import { UplinkProcessor } from '../kernel/ns/uplink.js';
import type { DecodePayload } from '../kernel/ns/uplink-types.js';
import { decodePhy } from '../proto/lorawan/index.js';
import type { BenchFigure } from './figure.js';
import { opsPerSecond } from './figure.js';

const DEVICES = 100;
const FRAMES_PER_DEVICE = 150;

const decodePayload: DecodePayload = async (_device, _fPort, bytes) => {
  const r = decodeCayenneLpp(bytes);
  return { object: r.data, warnings: r.warnings, errors: r.errors };
};

async function fleet() {
  const repository = new MemoryNetworkRepository();
  const devices: TestDevice[] = [];
  const extraChannels = {
    '3': 867_100_000,
    '4': 867_300_000,
    '5': 867_500_000,
    '6': 867_700_000,
    '7': 867_900_000,
  };
  for (let i = 0; i < DEVICES; i++) {
    const hex = i.toString(16).padStart(4, '0');
    const activation = {
      mode: 'abp' as const,
      devAddr: `2601${hex}`,
      nwkSKey: `${hex}`.repeat(8),
      appSKey: `${hex}`.padStart(32, 'a'),
    };
    await addDevice(repository, {
      devEui: `00000000000${hex}`.padStart(16, '0'),
      name: `d${i}`,
      applicationId: 'bench',
      codec: { kind: 'cayenne-lpp' },
      activation,
    });
    const session = await repository.getSession(`00000000000${hex}`.padStart(16, '0'));
    if (session) await repository.putSession({ ...session, extraChannels });
    devices.push(
      TestDevice.abp(
        `00000000000${hex}`.padStart(16, '0'),
        activation.devAddr,
        activation.nwkSKey,
        activation.appSKey,
      ),
    );
  }
  // A typical soil probe: temperature, humidity, analog input (11 bytes of Cayenne LPP).
  const payload = encodeCayenneLpp({
    temperatureSensor: { '1': 21.5 },
    humiditySensor: { '2': 48 },
    analogInput: { '3': 3.3 },
  });
  const frames: Uint8Array[] = [];
  for (let n = 0; n < FRAMES_PER_DEVICE; n++)
    for (const d of devices) frames.push(d.uplink({ fPort: 2, payload }));
  return { repository, frames };
}

export async function run(): Promise<BenchFigure[]> {
  const { repository, frames } = await fleet();
  const rx = [rxMeta()];

  let i = 0;
  const baseline = opsPerSecond(() => {
    decodePhy(frames[i++ % frames.length] as Uint8Array);
  }, 1000);

  const processor = new UplinkProcessor({ repository, decodePayload });
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  for (const phy of frames) {
    const frame = decodePhy(phy);
    if (frame.kind !== 'data') throw new Error('bench frame is not data');
    const collected: CollectedUplink = { phyPayload: phy, rxInfo: rx, receivedAtMs: Date.now() };
    const out = await processor.process(collected, frame);
    if (out.kind !== 'accepted') throw new Error(`bench uplink ${out.kind}`);
    await repository.putSession(out.session);
  }
  const pipeline = (frames.length * 1000) / (performance.now() - start);
  const cpu = process.cpuUsage(cpuStart);
  // Per CPU-second as well: on a machine shared with other jobs, wall-clock rates understate the code.
  const pipelinePerCpuSecond = (frames.length * 1e6) / (cpu.user + cpu.system);

  // The whole server, fed in bursts of 100 frames (one per device) and flushed.
  const second = await fleet();
  const radio = new FakeRadio();
  const ns = new NetworkServer({
    repository: second.repository,
    radios: [radio],
    dedupWindowMs: 60_000,
    devStatusIntervalMs: 0,
    decodePayload,
  });
  let ups = 0;
  ns.on('up', () => ups++);
  await ns.start();
  const nsStart = performance.now();
  for (let b = 0; b < second.frames.length; b += DEVICES) {
    for (const phy of second.frames.slice(b, b + DEVICES))
      radio.receive({ phyPayload: phy, rx: rx[0] ?? rxMeta(), receivedAtMs: Date.now() });
    await ns.settle();
  }
  const server = (ups * 1000) / (performance.now() - nsStart);
  await ns.stop();
  if (ups !== second.frames.length)
    throw new Error(`only ${ups} of ${second.frames.length} uplinks accepted`);

  const base = { name: 'decodePhy alone', value: baseline };
  return [
    { name: 'ns: decodePhy (baseline)', value: baseline, unit: 'uplinks/s' },
    {
      name: 'ns: uplink pipeline (decode+MIC+FCnt+decrypt+MAC/ADR+Cayenne+session write, memory repo)',
      value: pipeline,
      unit: 'uplinks/s',
      baseline: base,
      ratio: pipeline / baseline,
      note: `${frames.length} uplinks from ${DEVICES} ABP devices, one core; durable writes are the store's bench`,
    },
    {
      name: 'ns: uplink pipeline per CPU-second (same run, process CPU time)',
      value: pipelinePerCpuSecond,
      unit: 'uplinks/CPU-s',
      note: 'robust to other load on the machine; 50x target = 6,500 uplinks/s',
    },
    {
      name: 'ns: NetworkServer end to end (dedup, per-device ordering, events)',
      value: server,
      unit: 'uplinks/s',
      baseline: base,
      ratio: server / baseline,
      note: 'bursts of 100 frames, dedup flushed per burst; 50x target = 6,500 uplinks/s',
    },
  ];
}
