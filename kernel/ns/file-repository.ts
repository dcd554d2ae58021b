/**
 * NetworkRepository on one JSON state file, written atomically: the whole state
 * goes to a temp file, which is fsync'ed, renamed over the old one, and the
 * directory is fsync'ed so the rename itself survives a power cut. Writes that
 * arrive while one is in flight are coalesced into the next one, and every
 * mutation resolves only when a write containing it has completed.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeError, ErrorCode, MaverickError } from '../../proto/errors.js';
import type { ActiveDevice, NetworkRepository } from './repository.js';
import { cloneDevice, cloneSession, type Device, type DeviceSession } from './types.js';

interface StateFile {
  version: 1;
  devices: Record<string, Device>;
  sessions: Record<string, DeviceSession>;
  devNonces: Record<string, number[]>;
  joinNonces: Record<string, number>;
}

function emptyState(): StateFile {
  return { version: 1, devices: {}, sessions: {}, devNonces: {}, joinNonces: {} };
}

export class FileNetworkRepository implements NetworkRepository {
  private state: StateFile = emptyState();
  private nonceSets = new Map<string, Set<number>>();
  private writing: Promise<void> | undefined;
  private writeQueued: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly path: string) {}

  /** Opens (or creates) the state file at `path`. */
  static async open(path: string): Promise<FileNetworkRepository> {
    const repo = new FileNetworkRepository(path);
    await mkdir(dirname(path), { recursive: true });
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new MaverickError(
          ErrorCode.StoreIo,
          `cannot read network state ${path}: ${describeError(err)}`,
          {
            cause: err,
          },
        );
      }
    }
    if (text !== undefined) repo.state = parseState(text, path);
    for (const [devEui, nonces] of Object.entries(repo.state.devNonces)) {
      repo.nonceSets.set(devEui, new Set(nonces));
    }
    return repo;
  }

  async getDevice(devEui: string): Promise<Device | undefined> {
    const device = this.state.devices[devEui];
    return device && cloneDevice(device);
  }

  async devicesByDevAddr(devAddr: string, readOnly = false): Promise<ActiveDevice[]> {
    const out: ActiveDevice[] = [];
    for (const session of Object.values(this.state.sessions)) {
      const device = this.state.devices[session.devEui];
      if (session.devAddr !== devAddr || !device) continue;
      out.push(
        readOnly ? { device, session } : { device: cloneDevice(device), session: cloneSession(session) },
      );
    }
    return out;
  }

  async listDevices(): Promise<Device[]> {
    return Object.values(this.state.devices).map((d) => cloneDevice(d));
  }

  async putDevice(device: Device): Promise<void> {
    this.state.devices[device.devEui] = cloneDevice(device);
    await this.persist();
  }

  async removeDevice(devEui: string): Promise<boolean> {
    if (!this.state.devices[devEui]) return false;
    delete this.state.devices[devEui];
    delete this.state.sessions[devEui];
    delete this.state.devNonces[devEui];
    delete this.state.joinNonces[devEui];
    this.nonceSets.delete(devEui);
    await this.persist();
    return true;
  }

  async getSession(devEui: string, readOnly = false): Promise<DeviceSession | undefined> {
    const session = this.state.sessions[devEui];
    return session && (readOnly ? session : cloneSession(session));
  }

  async putSession(session: DeviceSession): Promise<void> {
    this.state.sessions[session.devEui] = cloneSession(session);
    await this.persist();
  }

  async hasDevNonce(devEui: string, devNonce: number): Promise<boolean> {
    return this.nonceSets.get(devEui)?.has(devNonce) ?? false;
  }

  async addDevNonce(devEui: string, devNonce: number): Promise<void> {
    let set = this.nonceSets.get(devEui);
    if (!set) {
      set = new Set();
      this.nonceSets.set(devEui, set);
    }
    if (set.has(devNonce)) return;
    set.add(devNonce);
    const stored = this.state.devNonces[devEui] ?? [];
    stored.push(devNonce);
    this.state.devNonces[devEui] = stored;
    await this.persist();
  }

  async nextJoinNonce(devEui: string): Promise<number> {
    // JoinNonce is 24 bits (LoRaWAN 1.0.4 §6.2.3); it must never repeat for a device.
    const next = (this.state.joinNonces[devEui] ?? 0) + 1;
    if (next > 0xffffff) {
      throw new MaverickError(ErrorCode.LorawanDeviceInvalid, `JoinNonce of ${devEui} is exhausted`, {
        hint: 're-register the device with a new DevEUI/AppKey',
      });
    }
    this.state.joinNonces[devEui] = next;
    await this.persist();
    return next;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.writeQueued;
    await this.writing;
  }

  /** Resolves once a write that includes every change made so far is on disk. */
  private persist(): Promise<void> {
    if (this.closed) {
      return Promise.reject(new MaverickError(ErrorCode.StoreClosed, `network state ${this.path} is closed`));
    }
    if (this.writeQueued) return this.writeQueued;
    if (!this.writing) {
      this.writing = this.writeNow().finally(() => {
        this.writing = undefined;
      });
      return this.writing;
    }
    // A write is in flight with an older state: queue exactly one more, shared by all callers until it starts.
    const after = this.writing.catch(() => undefined);
    this.writeQueued = after.then(() => {
      this.writeQueued = undefined;
      this.writing = this.writeNow().finally(() => {
        this.writing = undefined;
      });
      return this.writing;
    });
    return this.writeQueued;
  }

  private async writeNow(): Promise<void> {
    const text = JSON.stringify(this.state);
    const temp = `${this.path}.tmp`;
    try {
      const file = await open(temp, 'w');
      try {
        await file.writeFile(text, 'utf8');
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, this.path);
      const dir = await open(dirname(this.path), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch (err) {
      const code =
        (err as NodeJS.ErrnoException).code === 'ENOSPC' ? ErrorCode.StoreDiskFull : ErrorCode.StoreIo;
      throw new MaverickError(code, `cannot write network state ${this.path}: ${describeError(err)}`, {
        hint: 'check free space and permissions of the data directory',
        cause: err,
      });
    }
  }
}

function parseState(text: string, path: string): StateFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new MaverickError(ErrorCode.StoreCorrupt, `network state ${path} is not valid JSON`, {
      hint: 'restore it from a backup or move it away to start empty',
      cause: err,
    });
  }
  const s = parsed as Partial<StateFile> | null;
  if (!s || typeof s !== 'object' || s.version !== 1 || typeof s.devices !== 'object' || !s.devices) {
    throw new MaverickError(ErrorCode.StoreCorrupt, `network state ${path} has an unknown layout`, {
      hint: 'restore it from a backup or move it away to start empty',
    });
  }
  return {
    version: 1,
    devices: s.devices,
    sessions: s.sessions ?? {},
    devNonces: s.devNonces ?? {},
    joinNonces: s.joinNonces ?? {},
  };
}
