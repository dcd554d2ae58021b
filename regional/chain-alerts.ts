/**
 * The alerts a chain arrival opens, updates and closes (intake.ts decides
 * when): gap alerts that follow the held sequence numbers, equivocation and
 * chain alerts for conflicts, each opened once (an open alert is updated,
 * keeping when it opened) and closed, never deleted, when its cause is gone.
 */
import { ErrorCode } from '../proto/errors.js';
import type { Logger } from '../proto/log.js';
import { type ChainLink, GENESIS_HEX, groupBySeq, hasBrokenLink, missingBetween } from './chain-verdicts.js';
import type { AlertKind, GatewayChain, RegionalAlert } from './store.js';

export class ChainAlerts {
  constructor(
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /**
   * Gap alerts follow the held sequence numbers: one open alert per missing
   * range between consecutive held ones (from 1). A new sequence number splits
   * the range it lands in: that alert closes, the remainders open. `below`
   * and `above` are the held neighbours of `seq`, read before the bundle is
   * stored; the returned step writes after.
   */
  gapChanges(
    chain: GatewayChain,
    gatewayId: string,
    seq: number,
    window: ChainLink[],
    below: number,
    above: number | undefined,
  ): () => Promise<RegionalAlert[]> {
    if (window.some((l) => l.seq === seq)) return async () => [];
    return async () => {
      const raised: RegionalAlert[] = [];
      const spanning = above === undefined ? undefined : missingBetween(below, above);
      if (spanning) await this.close(chain, gapId(gatewayId, spanning), `bundle ${seq} arrived`);
      for (const range of [
        missingBetween(below, seq),
        above === undefined ? undefined : missingBetween(seq, above),
      ]) {
        if (!range) continue;
        const alert = this.alert(
          'gap',
          gatewayId,
          range[0],
          gapId(gatewayId, range),
          `bundles ${range[0]}..${range[1]} of ${gatewayId} are missing`,
          { missing: range },
        );
        if (await this.open(chain, alert)) raised.push(alert);
      }
      return raised;
    };
  }

  /** Opens or updates the equivocation and chain alerts the arrival touches; closes chain alerts it resolves. */
  async reconcileConflicts(
    chain: GatewayChain,
    gatewayId: string,
    held: ChainLink[],
    arriving: ChainLink,
    bytes: Uint8Array,
    source: string,
  ): Promise<RegionalAlert[]> {
    const raised: RegionalAlert[] = [];
    const groups = groupBySeq(held);
    const { seq } = arriving;
    const same = groups.get(seq) ?? [];
    if (same.length > 1) {
      const alert = this.alert(
        'equivocation',
        gatewayId,
        seq,
        `equivocation|${gatewayId}|${seq}`,
        `gateway ${gatewayId} signed ${same.length} different bundles with sequence ${seq}`,
        {
          digests: same.map((l) => l.digest).sort(),
          prevHashes: same.map((l) => l.prevHash),
          code: ErrorCode.RegionalEquivocation,
        },
      );
      if (
        await this.open(chain, alert, {
          conflictingDigest: arriving.digest,
          conflictingCose: Buffer.from(bytes).toString('base64'),
          source,
        })
      )
        raised.push(alert);
    }
    // Links into seq (from seq-1) and out of it (to seq+1).
    for (const link of [...same, ...(groups.get(seq + 1) ?? [])]) {
      const id = `chain|${gatewayId}|${link.seq}|${link.digest}`;
      if (!hasBrokenLink(link, groups)) {
        // A chain alert names a held bundle; the arriving one was not held, so it has none to close.
        if (link.digest !== arriving.digest) await this.close(chain, id, 'a predecessor it links to arrived');
        continue;
      }
      const expected = link.seq === 1 ? [GENESIS_HEX] : (groups.get(link.seq - 1) ?? []).map((p) => p.digest);
      const alert = this.alert(
        'chain',
        gatewayId,
        link.seq,
        id,
        `bundle ${link.seq} of ${gatewayId} (${link.digest.slice(0, 16)}) does not link to the held bundle ${link.seq - 1}`,
        {
          digest: link.digest,
          prevHash: link.prevHash,
          heldPredecessors: expected,
          code: ErrorCode.RegionalChain,
        },
      );
      if (await this.open(chain, alert)) raised.push(alert);
    }
    return raised;
  }

  private alert(
    kind: AlertKind,
    gatewayId: string,
    seq: number,
    id: string,
    message: string,
    details: Record<string, unknown>,
  ): RegionalAlert {
    return { id, kind, gatewayId, seq, message, details, at: this.now() };
  }

  /** Stores an alert unless the same one is already open (then it is updated, keeping when it opened). Returns true when newly opened. */
  private async open(
    chain: GatewayChain,
    alert: RegionalAlert,
    proof?: Record<string, unknown>,
  ): Promise<boolean> {
    const existing = await chain.getAlert(alert.id);
    if (existing && existing.closedAt === undefined) {
      const same =
        JSON.stringify(existing.details.digests ?? existing.details) ===
        JSON.stringify(alert.details.digests ?? alert.details);
      if (!same)
        await chain.putAlert({
          ...alert,
          at: existing.at,
          details: { ...existing.details, ...alert.details },
        });
      return false;
    }
    await chain.putAlert(proof ? { ...alert, details: { ...alert.details, ...proof } } : alert);
    return true;
  }

  async close(chain: GatewayChain, id: string, reason: string): Promise<void> {
    const existing = await chain.getAlert(id);
    if (!existing || existing.closedAt !== undefined) return;
    await chain.putAlert({ ...existing, closedAt: this.now(), closedReason: reason });
    this.log.info({ alert: id, reason }, 'alert closed');
  }
}

function gapId(gatewayId: string, [from, to]: [number, number]): string {
  return `gap|${gatewayId}|${from}|${to}`;
}
