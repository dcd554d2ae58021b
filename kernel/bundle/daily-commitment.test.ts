import { describe, expect, it } from 'vitest';
import { COMMITMENT_MAX_BYTES, commitmentDigest, verifyCommitment } from '../../proto/bundle/commitment.js';
import { keyIdOf, publicKeyOf, randomSecretKey } from '../../proto/bundle/ed25519.js';
import { fixturePlots, MemoryUplinks } from '../../test/fixtures/bundle-memory-sealer.js';
import { DAY_START_MS, simulatedDay } from '../../test/fixtures/bundle-simulated-day.js';
import { dailyCommitment, signDailyCommitment, utcDay } from './daily-commitment.js';
import { Sealer } from './sealer.js';
import type { PendingBundle, SealerState, SequenceStore } from './sequence-store.js';

/** In-memory SequenceStore (the file one is tested in sealer.test.ts). */
class MemorySequences implements SequenceStore {
  state: SealerState = {
    lastSeq: 0,
    lastDigest: new Uint8Array(32),
    reserved: null,
    carriedPlots: [],
    pending: null,
  };
  async load(): Promise<SealerState> {
    return this.state;
  }
  async reserve(): Promise<number> {
    const seq = this.state.reserved ?? this.state.lastSeq + 1;
    this.state = { ...this.state, reserved: seq };
    return seq;
  }
  async savePending(pending: PendingBundle): Promise<void> {
    this.state = { ...this.state, pending };
  }
  async complete(seq: number): Promise<void> {
    const p = this.state.pending as PendingBundle;
    this.state = {
      lastSeq: seq,
      lastDigest: p.digest,
      reserved: null,
      carriedPlots: [...this.state.carriedPlots, ...p.carriedPlots],
      pending: null,
    };
  }
}

describe('daily commitment from sealed bundles', () => {
  it('commits to the day’s hourly bundles in sequence order and fits one satellite message', async () => {
    const secretKey = randomSecretKey();
    const key = { kid: keyIdOf(publicKeyOf(secretKey)), secretKey };
    const uplinks = new MemoryUplinks();
    const sealer = new Sealer({
      source: uplinks,
      sink: uplinks,
      sequences: new MemorySequences(),
      plots: fixturePlots,
      key,
      gatewayId: 'gw-0016c001ff10a235',
      scope: 'farm:demo',
    });
    const day = simulatedDay();
    for (let hour = 0; hour < 24; hour++) {
      uplinks.add(
        day.filter(
          (u) =>
            u.receivedAt >= DAY_START_MS + hour * 3_600_000 &&
            u.receivedAt < DAY_START_MS + (hour + 1) * 3_600_000,
        ),
      );
      await sealer.sealNow();
    }
    expect(uplinks.commits).toHaveLength(24);
    const c = dailyCommitment(utcDay(DAY_START_MS), uplinks.commits);
    expect(c).toMatchObject({ seqFirst: 1, seqLast: 24, bundles: 24, uplinks: day.length });
    expect(c.timeSources['host-unsynced']).toBeGreaterThan(0);
    expect(Buffer.compare(c.digest, commitmentDigest(uplinks.commits.map((b) => b.digest)))).toBe(0);
    const cose = signDailyCommitment(utcDay(DAY_START_MS), uplinks.commits, key, {
      iss: 'gw-0016c001ff10a235',
      sub: 'farm:demo',
      iat: 1_763_683_260,
    });
    expect(cose.length).toBeLessThanOrEqual(COMMITMENT_MAX_BYTES);
    expect(verifyCommitment(cose, () => publicKeyOf(secretKey)).commitment).toEqual(c);
  });

  it('refuses a day without bundles', () => {
    expect(() => dailyCommitment(1, [])).toThrow(/no sealed bundle/);
  });
});
