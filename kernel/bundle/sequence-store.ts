/**
 * The sealer's durable memory: last sequence number and digest (the chain
 * head), the sequence reserved for the bundle being made, plots whose
 * geometry was already carried, and the signed-but-not-yet-committed bundle.
 * `FileSequenceStore` keeps it in one JSON file replaced atomically (temp +
 * fsync + rename + dir fsync); the lead may move it into the RxDB store later
 * behind the same interface.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TimeSource } from '../../proto/bundle/types.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { writeFileAtomic } from '../keys/atomic-file.js';

/** A bundle whose signed bytes are durable but whose commit to the sink is not known to be done. */
export interface PendingBundle {
  seq: number;
  cose: Uint8Array;
  digest: Uint8Array;
  uplinkIds: string[];
  /** Geometry hashes (hex) of plots whose definition this bundle carries. */
  carriedPlots: string[];
  timeRange: { start: number; end: number };
  uplinks: number;
  /** Uplinks per time source, as the bundle's summary says (for daily commitments). */
  timeSources: Record<TimeSource, number>;
}

export interface SealerState {
  /** 0 before the first bundle. */
  lastSeq: number;
  /** SHA-256 of the last committed bundle; 32 zero bytes before the first. */
  lastDigest: Uint8Array;
  /** A sequence number persisted for a bundle that was being made (equal to lastSeq + 1), or null. */
  reserved: number | null;
  carriedPlots: string[];
  pending: PendingBundle | null;
}

export interface SequenceStore {
  load(): Promise<SealerState>;
  /** Persists and returns the next sequence number BEFORE anything is signed with it. */
  reserve(): Promise<number>;
  /** Persists the signed bytes of the reserved sequence number before anything is marked sealed. */
  savePending(pending: PendingBundle): Promise<void>;
  /** The sink holds the pending bundle: advance the chain head and clear it. */
  complete(seq: number): Promise<void>;
}

interface StateFile {
  version: 1;
  lastSeq: number;
  lastDigest: string;
  reserved: number | null;
  carriedPlots: string[];
  pending: {
    seq: number;
    cose: string;
    digest: string;
    uplinkIds: string[];
    carriedPlots: string[];
    timeRange: { start: number; end: number };
    uplinks: number;
    timeSources: Record<TimeSource, number>;
  } | null;
}

const EMPTY: SealerState = {
  lastSeq: 0,
  lastDigest: new Uint8Array(32),
  reserved: null,
  carriedPlots: [],
  pending: null,
};

function toFile(s: SealerState): StateFile {
  return {
    version: 1,
    lastSeq: s.lastSeq,
    lastDigest: Buffer.from(s.lastDigest).toString('hex'),
    reserved: s.reserved,
    carriedPlots: s.carriedPlots,
    pending: s.pending && {
      ...s.pending,
      cose: Buffer.from(s.pending.cose).toString('base64'),
      digest: Buffer.from(s.pending.digest).toString('hex'),
    },
  };
}

function fromFile(f: StateFile): SealerState {
  return {
    lastSeq: f.lastSeq,
    lastDigest: new Uint8Array(Buffer.from(f.lastDigest, 'hex')),
    reserved: f.reserved,
    carriedPlots: f.carriedPlots,
    pending: f.pending && {
      ...f.pending,
      cose: new Uint8Array(Buffer.from(f.pending.cose, 'base64')),
      digest: new Uint8Array(Buffer.from(f.pending.digest, 'hex')),
    },
  };
}

export class FileSequenceStore implements SequenceStore {
  readonly path: string;
  private state: SealerState | undefined;

  constructor(dir: string) {
    this.path = join(dir, 'sealer-state.json');
  }

  async load(): Promise<SealerState> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.state = { ...EMPTY, lastDigest: new Uint8Array(32) };
      return this.state;
    }
    let parsed: StateFile;
    try {
      parsed = JSON.parse(text) as StateFile;
    } catch (err) {
      throw new MaverickError(ErrorCode.StoreCorrupt, `sealer state ${this.path} is not valid JSON`, {
        hint: 'it is written atomically, so this means outside damage: restore it from backup',
        cause: err,
      });
    }
    if (
      parsed.version !== 1 ||
      !Number.isSafeInteger(parsed.lastSeq) ||
      typeof parsed.lastDigest !== 'string'
    ) {
      throw new MaverickError(ErrorCode.StoreCorrupt, `sealer state ${this.path} has an unexpected shape`);
    }
    this.state = fromFile(parsed);
    return this.state;
  }

  private async current(): Promise<SealerState> {
    return this.state ?? (await this.load());
  }

  private async write(next: SealerState): Promise<void> {
    await mkdir(join(this.path, '..'), { recursive: true });
    await writeFileAtomic(this.path, `${JSON.stringify(toFile(next))}\n`);
    this.state = next;
  }

  async reserve(): Promise<number> {
    const s = await this.current();
    if (s.pending) {
      throw new MaverickError(
        ErrorCode.BundleSequence,
        `bundle ${s.pending.seq} is still pending; commit it first`,
      );
    }
    // A reservation left by a crash before signing is re-used: nothing signed with it ever left the process.
    const seq = s.reserved ?? s.lastSeq + 1;
    if (s.reserved === null) await this.write({ ...s, reserved: seq });
    return seq;
  }

  async savePending(pending: PendingBundle): Promise<void> {
    const s = await this.current();
    if (s.reserved !== pending.seq) {
      throw new MaverickError(
        ErrorCode.BundleSequence,
        `bundle ${pending.seq} was not the reserved sequence (${s.reserved})`,
      );
    }
    await this.write({ ...s, pending });
  }

  async complete(seq: number): Promise<void> {
    const s = await this.current();
    if (!s.pending || s.pending.seq !== seq) {
      throw new MaverickError(ErrorCode.BundleSequence, `no pending bundle ${seq} to complete`);
    }
    await this.write({
      lastSeq: seq,
      lastDigest: s.pending.digest,
      reserved: null,
      carriedPlots: [...new Set([...s.carriedPlots, ...s.pending.carriedPlots])],
      pending: null,
    });
  }
}
