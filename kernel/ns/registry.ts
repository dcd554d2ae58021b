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
