/**
 * The device registry as plain functions for the CLI (`maverick device …`):
 * every field is validated and a bad one gets a MaverickError naming it. An
 * ABP device gets its session at once, with the region's default parameters,
 * since it never joins.
 */
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { regionIdOf, regionIdsHint } from '../../proto/regions/index.js';
import type { NetworkRepository } from './repository.js';
import { defaultDeviceSession, nextGeneration } from './session.js';
import { type Activation, type CodecRef, type Device, normalizeHex, type RegionId } from './types.js';

export interface AddDeviceInput {
  devEui: string;
  name: string;
  applicationId: string;
  regionId?: RegionId;
  codec?: CodecRef;
  activation: Activation;
  skipFCntCheck?: boolean;
  plotId?: string;
}

function invalid(field: string, message: string, hint: string): MaverickError {
  return new MaverickError(ErrorCode.LorawanDeviceInvalid, `${field}: ${message}`, {
    hint,
    context: { field },
  });
}

/** Checks a device description and returns it normalised (lower-case hex, defaults filled in). */
export function validateDevice(input: AddDeviceInput, defaultRegion: RegionId = 'EU868'): Device {
  const devEui = normalizeHex(input.devEui, 8, 'devEui');
  if (typeof input.name !== 'string' || input.name.trim() === '') {
    throw invalid('name', 'must be a non-empty string', 'give the device a name, e.g. "soil-probe-1"');
  }
  if (typeof input.applicationId !== 'string' || input.applicationId.trim() === '') {
    throw invalid(
      'applicationId',
      'must be a non-empty string',
      'name the application the device belongs to',
    );
  }
  const regionName = input.regionId ?? defaultRegion;
  const regionId = regionIdOf(regionName);
  if (!regionId) {
    throw invalid('regionId', `unknown region ${JSON.stringify(regionName)}`, regionIdsHint());
  }
  const codec = validateCodec(input.codec ?? { kind: 'none' });
  const activation = validateActivation(input.activation);
  const device: Device = {
    devEui,
    name: input.name.trim(),
    applicationId: input.applicationId.trim(),
    regionId,
    codec,
    activation,
    skipFCntCheck: input.skipFCntCheck ?? false,
  };
  if (device.skipFCntCheck && activation.mode !== 'abp') {
    throw invalid(
      'skipFCntCheck',
      'only applies to ABP devices',
      'OTAA devices reset counters by re-joining',
    );
  }
  if (input.plotId !== undefined) {
    if (typeof input.plotId !== 'string' || input.plotId === '') {
      throw invalid('plotId', 'must be a non-empty string', 'use the id shown by `maverick plot list`');
    }
    device.plotId = input.plotId;
  }
  return device;
}

function validateCodec(codec: CodecRef): CodecRef {
  if (codec.kind === 'none' || codec.kind === 'cayenne-lpp') return { kind: codec.kind };
  if (codec.kind === 'js' && typeof codec.path === 'string' && codec.path !== '')
    return { kind: 'js', path: codec.path };
  throw invalid(
    'codec',
    `unsupported codec ${JSON.stringify(codec)}`,
    'use none, cayenne-lpp or js with a path',
  );
}

function validateActivation(activation: Activation): Activation {
  if (activation?.mode === 'otaa') {
    return {
      mode: 'otaa',
      joinEui: normalizeHex(activation.joinEui, 8, 'joinEui'),
      appKey: normalizeHex(activation.appKey, 16, 'appKey'),
    };
  }
  if (activation?.mode === 'abp') {
    return {
      mode: 'abp',
      devAddr: normalizeHex(activation.devAddr, 4, 'devAddr'),
      nwkSKey: normalizeHex(activation.nwkSKey, 16, 'nwkSKey'),
      appSKey: normalizeHex(activation.appSKey, 16, 'appSKey'),
    };
  }
  throw invalid(
    'activation',
    'mode must be "otaa" or "abp"',
    'OTAA needs joinEui + appKey, ABP devAddr + nwkSKey + appSKey',
  );
}

/**
 * Registers (or replaces) a device. Replacing an ABP device with the same keys
 * keeps its frame counters; changed ABP keys or address start a fresh session.
 */
export async function addDevice(
  repository: NetworkRepository,
  input: AddDeviceInput,
  defaultRegion: RegionId = 'EU868',
): Promise<Device> {
  const device = validateDevice(input, defaultRegion);
  await repository.putDevice(device);
  const activation = device.activation;
  if (activation.mode === 'abp') {
    const existing = await repository.getSession(device.devEui);
    const same =
      existing &&
      existing.devAddr === activation.devAddr &&
      existing.nwkSKey === activation.nwkSKey &&
      existing.appSKey === activation.appSKey;
    if (!same) {
      await repository.putSession(
        defaultDeviceSession(device, {
          devAddr: activation.devAddr,
          nwkSKey: activation.nwkSKey,
          appSKey: activation.appSKey,
          generation: nextGeneration(existing),
        }),
      );
    }
  }
  return device;
}

export interface RegisterOptions {
  /** Replace a device already registered under this DevEUI (`--force`). */
  force?: boolean;
  defaultRegion?: RegionId;
}

export interface Registration {
  device: Device;
  /** Set when an existing device was replaced: what differs, one phrase each (keys are not shown). */
  changes?: string[];
}

function describe(value: unknown): string {
  return value === undefined ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value);
}

/** What differs between two registrations of one DevEUI, for the technician (never the keys themselves). */
export function deviceChanges(before: Device, after: Device): string[] {
  const changes: string[] = [];
  const fields: [string, unknown, unknown][] = [
    ['name', before.name, after.name],
    ['application', before.applicationId, after.applicationId],
    ['region', before.regionId, after.regionId],
    ['codec', before.codec, after.codec],
    ['plot', before.plotId, after.plotId],
    ['skip FCnt check', before.skipFCntCheck, after.skipFCntCheck],
    ['activation', before.activation.mode, after.activation.mode],
  ];
  for (const [label, a, b] of fields) {
    if (describe(a) !== describe(b)) changes.push(`${label}: ${describe(a)} -> ${describe(b)}`);
  }
  if (before.activation.mode === after.activation.mode) {
    const a = before.activation as unknown as Record<string, string>;
    const b = after.activation as unknown as Record<string, string>;
    for (const key of Object.keys(b)) {
      if (key === 'mode' || a[key] === b[key]) continue;
      const secret = /key/i.test(key);
      changes.push(secret ? `${key}: changed` : `${key}: ${a[key]} -> ${b[key]}`);
    }
  }
  return changes;
}

/**
 * `maverick device add`: registers a device, refusing what would lose or
 * confuse data. An existing DevEUI is replaced only with `force` (and the
 * answer says what changed); an ABP DevAddr whose NwkSKey another device
 * already uses is refused, since the network server could not tell their
 * frames apart (the MIC would match both).
 */
export async function registerDevice(
  repository: NetworkRepository,
  input: AddDeviceInput,
  options: RegisterOptions = {},
): Promise<Registration> {
  const device = validateDevice(input, options.defaultRegion);
  const existing = await repository.getDevice(device.devEui);
  if (existing && !options.force) {
    throw new MaverickError(
      ErrorCode.LorawanDeviceInvalid,
      `devEui ${device.devEui} is already registered (as "${existing.name}", application ${existing.applicationId})`,
      {
        hint: 'add --force to replace it (its name, keys and codec are overwritten), or check the DevEUI',
        context: { field: 'devEui', devEui: device.devEui },
      },
    );
  }
  if (device.activation.mode === 'abp') {
    const { devAddr, nwkSKey } = device.activation;
    const clash = (await repository.devicesByDevAddr(devAddr)).find(
      (c) => c.device.devEui !== device.devEui && c.session.nwkSKey === nwkSKey,
    );
    if (clash) {
      throw new MaverickError(
        ErrorCode.LorawanDeviceInvalid,
        `DevAddr ${devAddr} with this NwkSKey is already used by device ${clash.device.devEui} ("${clash.device.name}")`,
        {
          hint: 'two ABP devices need different DevAddrs or different keys; check the label of this device',
          context: { field: 'devAddr', devAddr },
        },
      );
    }
  }
  const added = await addDevice(repository, input, options.defaultRegion);
  return existing ? { device: added, changes: deviceChanges(existing, added) } : { device: added };
}

export async function listDevices(repository: NetworkRepository): Promise<Device[]> {
  const devices = await repository.listDevices();
  return devices.sort((a, b) => a.devEui.localeCompare(b.devEui));
}

/** Removes a device and its session; a MaverickError when no such device is registered. */
export async function removeDevice(repository: NetworkRepository, devEui: string): Promise<void> {
  const id = normalizeHex(devEui, 8, 'devEui');
  if (!(await repository.removeDevice(id))) {
    throw new MaverickError(ErrorCode.LorawanUnknownDevice, `no device with devEui ${id}`, {
      hint: 'see `maverick device list`',
      context: { devEui: id },
    });
  }
}
