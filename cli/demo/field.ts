/**
 * The field side of the demo, in the demo's own process: the simulated farm
 * (real LoRaWAN device stacks) behind a Semtech packet-forwarder emulator and,
 * when socat is installed, a serial concentrator emulator on a pseudo-terminal.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { SimClock } from '../../simulator/clock.js';
import { type FarmDeviceSpec, FarmSimulation, generateFarmDevices } from '../../simulator/farm.js';
import { PacketForwarderEmulator } from '../../simulator/packet-forwarder.js';
import {
  acceptEveryTxpk,
  type RadioPath,
  SerialRadioPath,
  UdpRadioPath,
} from '../../simulator/radio-link.js';
import { SerialConcentratorEmulator } from '../../simulator/serial-concentrator.js';
import { type PtyPair, socatAvailable, startPtyPair } from '../../simulator/serial-concentrator-pty.js';

export const FORWARDER_EUI = 'aa555a0000000001';

export interface SerialLine {
  pair: PtyPair;
  deviceSide: Duplex & { close(cb: () => void): void; isOpen: boolean };
}

/** A pty pair: the gateway opens `hostPath`, the emulated device (MCU, modem) talks on the other end. */
export async function openSerialLine(tag: string, baudRate = 115_200): Promise<SerialLine | undefined> {
  if (!socatAvailable()) return undefined;
  const base = join(tmpdir(), `maverick-demo-${tag}-${process.pid}`);
  const pair = await startPtyPair(`${base}-host`, `${base}-device`);
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path: pair.devicePath, baudRate, autoOpen: false });
  port.on('error', () => {}); // the pty closing at the end is expected
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  return { pair, deviceSide: port };
}

export interface FieldOptions {
  seed: number;
  devices: number;
  hours: number;
  /** Real milliseconds for one simulated hour. */
  realMsPerHour: number;
  udpPort: number;
  /** The gateway's own EUI: the serial concentrator has none of its own. */
  gatewayId: string;
  /** The radio region plan of the farm's devices. */
  region: string;
  serial?: SerialLine;
  startMs: number;
}

export interface Field {
  clock: SimClock;
  farm: FarmSimulation;
  specs: FarmDeviceSpec[];
  forwarder: PacketForwarderEmulator;
  mcu?: SerialConcentratorEmulator;
  stop(): Promise<void>;
}

export function farmDevices(seed: number, count: number, withSerial: boolean): FarmDeviceSpec[] {
  return generateFarmDevices({
    seed,
    count,
    otaaRatio: 0.7,
    // Some devices are heard by both concentrators (de-duplication), some by one.
    pathsFor: (i) => (withSerial ? ([['udp', 'serial'], ['udp'], ['serial']][i % 3] as string[]) : ['udp']),
  });
}

export async function startField(options: FieldOptions, specs: FarmDeviceSpec[]): Promise<Field> {
  const clock = new SimClock({ startMs: options.startMs, speed: 3_600_000 / options.realMsPerHour });
  const forwarder = new PacketForwarderEmulator({
    host: '127.0.0.1',
    port: options.udpPort,
    gatewayEui: FORWARDER_EUI,
    txAckFor: () => 'NONE',
  });
  await forwarder.start();
  const paths: RadioPath[] = [new UdpRadioPath(forwarder, { name: 'udp', clock })];
  let mcu: SerialConcentratorEmulator | undefined;
  if (options.serial) {
    mcu = new SerialConcentratorEmulator({ txAck: acceptEveryTxpk });
    mcu.attach(options.serial.deviceSide);
    paths.push(new SerialRadioPath(mcu, options.gatewayId, { name: 'serial', clock }));
  }
  const farm = new FarmSimulation({
    clock,
    paths,
    devices: specs,
    seed: options.seed,
    region: options.region,
    intervalMs: 15 * 60_000,
    uplinks: Math.floor((options.hours * 60) / 15),
    confirmedRatio: 0.1,
    answerGraceMs: 5_000,
  });
  return {
    clock,
    farm,
    specs,
    forwarder,
    ...(mcu ? { mcu } : {}),
    async stop() {
      farm.stop();
      clock.stop();
      await forwarder.stop();
      if (options.serial) {
        const side = options.serial.deviceSide;
        if (side.isOpen) await new Promise<void>((r) => side.close(() => r()));
        await options.serial.pair.close();
      }
    },
  };
}
