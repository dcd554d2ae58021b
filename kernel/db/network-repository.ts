/**
 * The network server's state in the farm database (RxDB): devices, sessions,
 * DevNonces and JoinNonces.
 *
 * Reads come from an in-memory copy loaded at open (a farm has hundreds of
 * devices, not millions), so the uplink path never waits for the disk to read.
 * Writes are durable before they resolve, with one exception: a session
 * update that only records uplink progress (the uplink counter and the ADR
 * SNR history) is written behind, within `writeBehindMs` (1 s: one write
 * per device per second at most, whatever its uplink rate; a crash loses at
 * most that second of ADR history). It needs no write-through: the stored
 * uplink is the durable proof of the counter, and the counter is rebuilt from
 * stored uplinks at open (below). Everything else
 * — a new session, the downlink counter (reusing it would reuse keystream),
 * MAC state, data rate — is written through a group commit, so under load one
 * transaction (one fsync) carries many devices' sessions instead of one each.
 *
 * Another process (the `maverick device` CLI) may register devices while the
 * gateway runs: a lookup that misses the in-memory copy pulls the changes
 * committed since the last pull straight from the storage (RxDB's own caches
 * do not see other processes' writes), at most once a second.
 *
 * At open, each session's uplink counter is raised to the highest FCnt stored
 * in `uplinks`: a stored uplink is proof the counter got there, even if the
 * process died before the session write landed, so a replay of it is refused.
 */
import {
  getChangedDocumentsSince,
  type MangoQuerySelector,
  normalizeMangoQuery,
  prepareQuery,
  type RxDocumentData,
} from 'rxdb';
import type { Subscription } from 'rxjs';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { ActiveDevice, NetworkRepository } from '../ns/repository.js';
import { cloneDevice, cloneSession, type Device, type DeviceSession } from '../ns/types.js';
import type { FarmDatabase } from './farm-db.js';
import { GroupCommit } from './group-commit.js';
import type { SessionDoc, UplinkDoc } from './schemas.js';
import { onlyUplinkProgress, writeSessions } from './session-writes.js';

const JOIN_NONCE_KEY = (devEui: string) => `join-nonce|${devEui}`;
const devNonceId = (devEui: string, nonce: number) => `${devEui}|${nonce}`;

function deviceDevAddr(device: Device, session: DeviceSession | undefined): string {
  if (session) return session.devAddr;
  return device.activation.mode === 'abp' ? device.activation.devAddr : '';
}

export interface RxdbNetworkRepositoryOptions {
  /** How long uplink-progress-only session updates may wait before they are written (default 1 s). */
  writeBehindMs?: number;
}

export class RxdbNetworkRepository implements NetworkRepository {
  private readonly devices = new Map<string, Device>();
  private readonly sessions = new Map<string, DeviceSession>();
  /** DevAddr → DevEUIs of the sessions holding it: an uplink's lookup without scanning every session. */
  private readonly byDevAddr = new Map<string, Set<string>>();
  private readonly sessionWrites: GroupCommit<DeviceSession>;
  /** The stored version of each session as last written or read: the precondition of its next update. */
  private readonly storedSessions = new Map<string, RxDocumentData<SessionDoc>>();
  private readonly sessionChanges: Subscription;
  /** Sessions changed only by uplink progress, waiting for the next write-behind flush. */
  private readonly behind = new Map<string, DeviceSession>();
  private behindTimer: NodeJS.Timeout | undefined;
  private readonly writeBehindMs: number;
  private closed = false;
  private lastPullMs = 0;
  private checkpoints: { devices?: unknown; sessions?: unknown } = {};

  private constructor(
    private readonly db: FarmDatabase,
    options: RxdbNetworkRepositoryOptions,
  ) {
    this.sessionWrites = new GroupCommit((items) => writeSessions(db, items, this.storedSessions));
    // Every committed session write (this process's, and RxDB's own) leaves its version here.
    this.sessionChanges = db.sessions.storageInstance.changeStream().subscribe((bulk) => {
      for (const event of bulk.events) this.storedSessions.set(event.documentId, event.documentData);
    });
    this.writeBehindMs = options.writeBehindMs ?? 1000;
  }

  static async open(
    db: FarmDatabase,
    options: RxdbNetworkRepositoryOptions = {},
  ): Promise<RxdbNetworkRepository> {
    const repo = new RxdbNetworkRepository(db, options);
    // Everything stored, read page by page from the storage (which also starts the cross-process
    // change feed), not through RxQueries: a query's RxDocuments stay in the collection's query
    // cache, and `find()` of every device and session plus one `findOne` per device kept a
    // second copy of each device and session (and its newest uplink) alive for good, ~3 KB per
    // device (heap snapshots of a gateway with 1,000 devices).
    const sessions = await repo.pullChanges(true);
    for (const session of sessions) {
      const newest = await repo.newestUplink(session.devEui);
      // Only uplinks of this session count: a rejoin restarts the counter at 0.
      if (newest && newest.devAddr === session.devAddr && newest.fCnt > (session.fCntUp ?? -1)) {
        session.fCntUp = newest.fCnt;
      }
      repo.setSession(session);
    }
    return repo;
  }

  /** The device's most recent stored uplink, read from the storage (no RxQuery left cached). */
  private async newestUplink(devEui: string): Promise<RxDocumentData<UplinkDoc> | undefined> {
    const schema = this.db.uplinks.schema.jsonSchema;
    const query = normalizeMangoQuery<UplinkDoc>(schema, {
      selector: { _deleted: { $eq: false }, devEui } as MangoQuerySelector<UplinkDoc>,
      sort: [{ devEui: 'asc' }, { receivedAt: 'desc' }],
      limit: 1,
    });
    const { documents } = await this.db.uplinks.storageInstance.query(prepareQuery(schema, query));
    return documents[0];
  }

  private assertOpen(): void {
    if (this.closed) throw new MaverickError(ErrorCode.StoreClosed, 'network repository is closed');
  }

  /**
   * Applies device and session changes committed since the last pull (by this
   * process or another). Devices are written through, so storage is the truth
   * for them; a session is only taken when this process has none for the
   * device, since its own may be newer than what has committed. The first
   * pull (`initial`) reads everything stored and returns the sessions instead
   * of taking them, for open() to check against the uplinks stored.
   */
  private async pullChanges(initial = false): Promise<DeviceSession[]> {
    for (;;) {
      const page = await getChangedDocumentsSince(
        this.db.devices.storageInstance,
        500,
        this.checkpoints.devices,
      );
      this.checkpoints.devices = page.checkpoint;
      for (const doc of page.documents) {
        if (!doc._deleted) this.devices.set(doc.devEui, doc.record as unknown as Device);
        else if (!initial) {
          this.devices.delete(doc.devEui);
          this.deleteSession(doc.devEui);
        }
      }
      if (page.documents.length < 500) break;
    }
    const stored: DeviceSession[] = [];
    for (;;) {
      const page = await getChangedDocumentsSince(
        this.db.sessions.storageInstance,
        500,
        this.checkpoints.sessions,
      );
      this.checkpoints.sessions = page.checkpoint;
      for (const doc of page.documents) {
        if (doc._deleted) continue;
        const session = doc.record as unknown as DeviceSession;
        if (initial) stored.push(session);
        else if (!this.sessions.has(doc.devEui)) this.setSession(session);
      }
      if (page.documents.length < 500) break;
    }
    return stored;
  }

  /** On a miss, look for devices registered by another process (rate-limited). */
  private async pullOnMiss(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPullMs < 1000 || this.closed) return;
    this.lastPullMs = now;
    await this.pullChanges();
  }

  async getDevice(devEui: string): Promise<Device | undefined> {
    if (!this.devices.has(devEui)) await this.pullOnMiss();
    const d = this.devices.get(devEui);
    return d && cloneDevice(d);
  }

  async devicesByDevAddr(devAddr: string, readOnly = false): Promise<ActiveDevice[]> {
    const found = this.findByDevAddr(devAddr, readOnly);
    if (found.length > 0) return found;
    await this.pullOnMiss();
    return this.findByDevAddr(devAddr, readOnly);
  }

  private findByDevAddr(devAddr: string, readOnly: boolean): ActiveDevice[] {
    const out: ActiveDevice[] = [];
    for (const devEui of this.byDevAddr.get(devAddr) ?? []) {
      const session = this.sessions.get(devEui);
      const device = this.devices.get(devEui);
      if (!session || !device) continue;
      out.push(
        readOnly ? { device, session } : { device: cloneDevice(device), session: cloneSession(session) },
      );
    }
    return out;
  }

  /** The in-memory session of a device, kept in step with the DevAddr index. */
  private setSession(session: DeviceSession): void {
    const previous = this.sessions.get(session.devEui);
    if (previous && previous.devAddr !== session.devAddr) this.unindex(previous);
    this.sessions.set(session.devEui, session);
    let holders = this.byDevAddr.get(session.devAddr);
    if (!holders) {
      holders = new Set();
      this.byDevAddr.set(session.devAddr, holders);
    }
    holders.add(session.devEui);
  }

  private deleteSession(devEui: string): void {
    const previous = this.sessions.get(devEui);
    if (previous) this.unindex(previous);
    this.sessions.delete(devEui);
  }

  private unindex(session: DeviceSession): void {
    const holders = this.byDevAddr.get(session.devAddr);
    holders?.delete(session.devEui);
    if (holders?.size === 0) this.byDevAddr.delete(session.devAddr);
  }

  async listDevices(): Promise<Device[]> {
    return [...this.devices.values()].map(cloneDevice).sort((a, b) => a.devEui.localeCompare(b.devEui));
  }

  async putDevice(device: Device): Promise<void> {
    this.assertOpen();
    await this.db.devices.upsert({
      devEui: device.devEui,
      devAddr: deviceDevAddr(device, this.sessions.get(device.devEui)),
      record: device as unknown as Record<string, unknown>,
      updatedAt: Date.now(),
    });
    this.devices.set(device.devEui, cloneDevice(device));
  }

  async removeDevice(devEui: string): Promise<boolean> {
    this.assertOpen();
    if (!this.devices.has(devEui)) return false;
    this.behind.delete(devEui);
    await this.sessionWrites.idle();
    const nonces = await this.db.devnonces.find({ selector: { devEui } }).exec();
    await this.db.devnonces.bulkRemove(nonces.map((n) => n.id));
    await this.db.sessions.bulkRemove([devEui]);
    await this.db.kv.bulkRemove([JOIN_NONCE_KEY(devEui)]);
    await this.db.devices.bulkRemove([devEui]);
    this.deleteSession(devEui);
    this.devices.delete(devEui);
    return true;
  }

  async getSession(devEui: string, readOnly = false): Promise<DeviceSession | undefined> {
    const s = this.sessions.get(devEui);
    return s && (readOnly ? s : cloneSession(s));
  }

  async putSession(session: DeviceSession): Promise<void> {
    this.assertOpen();
    const copy = cloneSession(session);
    const previous = this.sessions.get(copy.devEui);
    this.setSession(copy);
    if (onlyUplinkProgress(previous, copy)) {
      this.behind.set(copy.devEui, copy);
      this.behindTimer ??= setTimeout(() => void this.flushBehind(), this.writeBehindMs);
      return;
    }
    // Written through: it also carries any uplink progress still waiting behind.
    this.behind.delete(copy.devEui);
    await this.sessionWrites.submit(copy);
  }

  /** Writes the sessions waiting behind; a failed write leaves them waiting for the next flush. */
  private async flushBehind(): Promise<void> {
    this.behindTimer = undefined;
    const items = [...this.behind.values()];
    this.behind.clear();
    if (items.length === 0) return;
    try {
      await Promise.all(items.map((s) => this.sessionWrites.submit(s)));
    } catch {
      for (const s of items)
        if (!this.behind.has(s.devEui) && this.sessions.get(s.devEui) === s) this.behind.set(s.devEui, s);
      if (!this.closed) this.behindTimer ??= setTimeout(() => void this.flushBehind(), this.writeBehindMs);
    }
  }

  async hasDevNonce(devEui: string, devNonce: number): Promise<boolean> {
    return (await this.db.devnonces.findOne(devNonceId(devEui, devNonce)).exec()) !== null;
  }

  async addDevNonce(devEui: string, devNonce: number): Promise<void> {
    this.assertOpen();
    await this.db.devnonces.upsert({
      id: devNonceId(devEui, devNonce),
      devEui,
      devNonce,
      usedAt: Date.now(),
    });
  }

  async nextJoinNonce(devEui: string): Promise<number> {
    this.assertOpen();
    const key = JOIN_NONCE_KEY(devEui);
    const doc = await this.db.kv.findOne(key).exec();
    const next = (((doc?.value as { joinNonce?: number } | undefined)?.joinNonce ?? 0) + 1) & 0xffffff;
    await this.db.kv.upsert({ key, value: { joinNonce: next }, updatedAt: Date.now() });
    return next;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.behindTimer) clearTimeout(this.behindTimer);
    await this.flushBehind();
    await this.sessionWrites.idle();
    this.sessionChanges.unsubscribe();
    this.closed = true;
  }
}
