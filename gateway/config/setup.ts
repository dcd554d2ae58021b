/**
 * First-time setup of a data directory (`maverick init`): the directory
 * (0700), the MQTT password file (0600), the gateway key pair (kernel/keys,
 * secret 0600) and the commented config. The config is written last, so its
 * presence marks a complete setup; an existing setup is never overwritten
 * without `force`, and even then the gateway key is kept (it is the
 * gateway's identity: bundles it signed must stay attributable).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../kernel/keys/atomic-file.js';
import { generateGatewayKey, keysDir, listGatewayPublicKeys } from '../../kernel/keys/gateway-key.js';
import { publicKeyFromPem } from '../../proto/bundle/pem.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { hashPassword } from '../console/password.js';
import { configPath, resolveDataPath, validateConfig } from './load.js';
import { renderConfig } from './render.js';
import type { FileConfig } from './schema.js';
import { generatePassword, secretsInConfig, writeSecretFile } from './secrets.js';

export interface SetupOptions {
  dataDir: string;
  region?: string;
  gatewayId?: string;
  mqttUsername?: string;
  mqttPassword?: string;
  /** The farm console's admin password (default: a random one, shown once); stored only as a scrypt hash. */
  consolePassword?: string;
  /** The regional node's public key (PEM file): copied into the data dir as regional.node_key. */
  regionalNodeKey?: string;
  force?: boolean;
}

/** Where `maverick init --regional-node-key` puts the regional node's public key, inside the data dir. */
export const REGIONAL_NODE_KEY_FILE = 'regional-node.pub';

function readRegionalNodeKey(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MaverickError(ErrorCode.ConfigInvalid, `cannot read the regional node key ${file}`, {
      hint: "give the regional node's keys/regional-node.pub",
      cause: err,
    });
  }
  publicKeyFromPem(pem); // refuses anything that is not an Ed25519 public key
  return pem;
}

export interface SetupResult {
  dataDir: string;
  configFile: string;
  config: FileConfig;
  passwordFile: string;
  /** Set only when Maverick made the password up (so it can be shown once). */
  generatedPassword?: string;
  /** The console's password hash file (mode 0600). */
  consolePasswordFile: string;
  /** Set only when Maverick made the console password up. */
  generatedConsolePassword?: string;
  keyId: string;
  /** False when --force kept an existing key. */
  keyCreated: boolean;
}

/** The interfaces hardware/install.sh reads too, in the same order, so the forwarder's gateway_ID and ours agree. */
const PREFERRED_INTERFACES = ['eth0', 'wlan0'];

function macToEui(mac: string): string | undefined {
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac) || mac === '00:00:00:00:00:00') return undefined;
  const hex = mac.replace(/:/g, '').toLowerCase();
  return `${hex.slice(0, 6)}fffe${hex.slice(6)}`;
}

/**
 * EUI-64 from the Pi's MAC (OUI + FFFE + NIC, the usual gateway ID rule):
 * eth0, then wlan0 (read from sysfs, so an unplugged cable does not change
 * it), then any other interface; a random locally administered EUI when none.
 */
export function defaultGatewayId(): string {
  for (const name of PREFERRED_INTERFACES) {
    try {
      const eui = macToEui(readFileSync(`/sys/class/net/${name}/address`, 'utf8').trim());
      if (eui) return eui;
    } catch {
      // no such interface on this machine
    }
  }
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      const eui = address.internal ? undefined : macToEui(address.mac);
      if (eui) return eui;
    }
  }
  const bytes = randomBytes(8);
  // Locally administered, unicast (IEEE 802 U/L and I/G bits).
  bytes[0] = (bytes[0] | 0x02) & 0xfe;
  return bytes.toString('hex');
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export async function initSetup(options: SetupOptions): Promise<SetupResult> {
  const dataDir = resolve(options.dataDir);
  const configFile = configPath(dataDir);
  const keyring = join(keysDir(dataDir), 'keyring.json');
  const existing = [configFile, keyring].filter((p) => existsSync(p));
  if (existing.length > 0 && !options.force) {
    throw new MaverickError(
      ErrorCode.SetupExists,
      `${dataDir} already holds a Maverick setup (${existing.join(', ')}); nothing was changed`,
      {
        hint: 'add --force to rewrite the config and MQTT password (the gateway key is kept), or pick another --data-dir',
      },
    );
  }
  // Validate everything before touching the disk, so a bad flag leaves no half-made setup.
  const config = validateConfig(
    {
      gateway: { id: options.gatewayId ?? defaultGatewayId(), region: options.region ?? 'EU868' },
      mqtt: options.mqttUsername === undefined ? {} : { username: options.mqttUsername },
      ...(options.regionalNodeKey === undefined ? {} : { regional: { node_key: REGIONAL_NODE_KEY_FILE } }),
    },
    'the maverick init flags',
  );
  const regionalKeyPem =
    options.regionalNodeKey === undefined ? undefined : readRegionalNodeKey(options.regionalNodeKey);
  const generatedPassword = options.mqttPassword === undefined ? generatePassword() : undefined;
  const password = options.mqttPassword ?? (generatedPassword as string);

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // mkdir's mode only applies to a directory it creates (and umask trims it): set it explicitly.
  chmodSync(dataDir, 0o700);

  const passwordFile = resolveDataPath({ dataDir }, config.mqtt.password_file);
  await writeSecretFile(passwordFile, password);

  // An existing console password is kept under --force unless a new one is given (people know it).
  const consolePasswordFile = resolveDataPath({ dataDir }, config.console.password_file);
  const keepConsolePassword = options.consolePassword === undefined && existsSync(consolePasswordFile);
  const generatedConsolePassword =
    options.consolePassword === undefined && !keepConsolePassword ? generatePassword() : undefined;
  if (!keepConsolePassword) {
    await writeSecretFile(
      consolePasswordFile,
      await hashPassword(options.consolePassword ?? (generatedConsolePassword as string)),
    );
  }

  let keyId: string;
  let keyCreated: boolean;
  const current = existsSync(keyring)
    ? (await listGatewayPublicKeys(dataDir)).find((k) => k.current)
    : undefined;
  if (current) {
    keyId = hex(current.kid);
    keyCreated = false;
  } else {
    const key = await generateGatewayKey(dataDir);
    keyId = hex(key.kid);
    keyCreated = true;
  }

  if (regionalKeyPem !== undefined)
    await writeFileAtomic(join(dataDir, REGIONAL_NODE_KEY_FILE), regionalKeyPem, 0o644);
  // A config carrying a password (in a URL) is a secret file too.
  await writeFileAtomic(configFile, renderConfig(config), secretsInConfig(config).length > 0 ? 0o600 : 0o644);
  return {
    dataDir,
    configFile,
    config,
    passwordFile,
    ...(generatedPassword === undefined ? {} : { generatedPassword }),
    consolePasswordFile,
    ...(generatedConsolePassword === undefined ? {} : { generatedConsolePassword }),
    keyId,
    keyCreated,
  };
}
