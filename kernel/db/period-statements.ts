/**
 * Period statements on the gateway (proto/proof/PROOF.md §5): one signature over a closed range
 * of days, over the records of the format 3 bundles it sealed in them. Each calendar month is
 * signed once it is closed (a bundle ending in a later month was sealed); any closed range on
 * request (`maverick bundle statement`). Statements are kept in the kv collection under
 * `period:<from>:<to>` so that asking twice returns the same signed bytes; each newly signed
 * statement is handed to `onSigned` (the gateway puts it in its outbox for the regional node).
 */
import type { BundleClaims, SigningKey } from '../../proto/bundle/cose.js';
import { publicKeyOf } from '../../proto/bundle/ed25519.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { leavesOfBundle } from '../../proto/proof/bundle-leaves.js';
import {
  type BuiltPeriod,
  buildPeriod,
  type DayLeaves,
  PeriodBuilder,
  signPeriodStatement,
} from '../../proto/proof/period.js';
import { bundlesOfDay, daysWithBundles, firstBundle } from './bundle-days.js';
import type { FarmDatabase } from './farm-db.js';

const DAY_MS = 86_400_000;
const statementKey = (from: number, to: number) => `period:${from}:${to}`;

export interface SignedPeriod {
  fromDay: number;
  toDay: number;
  /** The signed period statement (COSE_Sign1, root attached). */
  cose: Uint8Array;
  leaves: number;
  days: number;
}

/** The first and last UTC day of the calendar month holding `day`. */
export function monthOf(day: number): { fromDay: number; toDay: number } {
  const d = new Date(day * DAY_MS);
  const first = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return { fromDay: first / DAY_MS, toDay: next / DAY_MS - 1 };
}

export class PeriodStatements {
  constructor(
    private readonly db: FarmDatabase,
    private readonly key: SigningKey,
    private readonly claims: () => BundleClaims,
    /** Told of each newly signed statement (not of a stored one asked for again): the gateway enqueues it for the regional node. */
    private readonly onSigned?: (signed: SignedPeriod) => Promise<void>,
  ) {}

  /**
   * Each day in [fromDay, toDay] whose bundles all have leaves (format 3; PROOF.md §4), with its
   * leaf hashes in day order, each bundle rebuilt and checked. One bundle document is in memory
   * at a time and one day's leaf hashes: a month is read in the memory of a day.
   */
  private async *daysOf(fromDay: number, toDay: number): AsyncGenerator<DayLeaves> {
    const publicKey = publicKeyOf(this.key.secretKey);
    for await (const day of daysWithBundles(this.db, fromDay, toDay)) {
      const leafHashes: Uint8Array[] = [];
      let complete = true;
      for await (const doc of bundlesOfDay(this.db, day)) {
        const leaves = leavesOfBundle(new Uint8Array(Buffer.from(doc.cose, 'base64')), () => publicKey);
        if (!leaves) {
          complete = false; // a format 1 or 2 bundle: the day has no day root
          break;
        }
        for (const h of leaves.leafHashes) leafHashes.push(h);
      }
      if (complete) yield { day, leafHashes };
    }
  }

  /** The period's tree and statement (not signed): what a spot check draws leaves from. */
  async build(fromDay: number, toDay: number): Promise<BuiltPeriod> {
    const days: DayLeaves[] = [];
    for await (const day of this.daysOf(fromDay, toDay)) days.push(day);
    return buildPeriod(fromDay, toDay, days);
  }

  /**
   * Signs (or returns the stored) statement for a closed range. `latestMs` is the end of the
   * newest sealed data: a range reaching its day is still open and refused.
   */
  async sign(fromDay: number, toDay: number, latestMs: number): Promise<SignedPeriod> {
    if (toDay >= Math.floor(latestMs / DAY_MS)) {
      throw new MaverickError(
        ErrorCode.BundleSequence,
        `day ${new Date(toDay * DAY_MS).toISOString().slice(0, 10)} is not closed yet: a period statement covers closed days only`,
        { hint: 'end the range before the day of the newest sealed bundle' },
      );
    }
    const stored = await this.db.kv.findOne(statementKey(fromDay, toDay)).exec();
    if (stored) {
      const v = stored.value as { cose: string; leaves: number; days: number };
      return {
        fromDay,
        toDay,
        cose: new Uint8Array(Buffer.from(v.cose, 'base64')),
        leaves: v.leaves,
        days: v.days,
      };
    }
    // Streamed: signing keeps no period tree, only its subtree roots.
    const builder = new PeriodBuilder(fromDay, toDay);
    for await (const day of this.daysOf(fromDay, toDay)) builder.addDay(day.day, day.leafHashes);
    const statement = builder.statement();
    const cose = signPeriodStatement(statement, this.key, this.claims());
    await this.db.kv.insert({
      key: statementKey(fromDay, toDay),
      value: { cose: Buffer.from(cose).toString('base64'), leaves: statement.leaves, days: statement.days },
      updatedAt: Date.now(),
    });
    const signed = { fromDay, toDay, cose, leaves: statement.leaves, days: statement.days };
    await this.onSigned?.(signed);
    return signed;
  }

  /** First day of the month up to which every closed month has been seen to (cheap repeat calls). */
  private checkedBefore = -1;

  /**
   * Signs every closed calendar month with sealed bundles and no statement yet. Called after
   * every seal; does real work only when a month has closed since the last call, and reads one
   * bundle document per month, not the month's bundles, until a month needs signing.
   */
  async signClosedMonths(latestMs: number): Promise<SignedPeriod[]> {
    const current = monthOf(Math.floor(latestMs / DAY_MS)).fromDay;
    if (current <= this.checkedBefore) return [];
    const oldest = await firstBundle(this.db, {});
    const made: SignedPeriod[] = [];
    let fromDay = oldest ? monthOf(Math.floor(oldest.toMs / DAY_MS)).fromDay : current;
    while (fromDay < current) {
      const { toDay } = monthOf(fromDay);
      const signed = await this.db.kv.findOne(statementKey(fromDay, toDay)).exec();
      const any = signed
        ? undefined
        : await firstBundle(this.db, { toMs: { $gte: fromDay * DAY_MS, $lt: (toDay + 1) * DAY_MS } });
      if (any) made.push(await this.sign(fromDay, toDay, latestMs));
      fromDay = toDay + 1;
    }
    this.checkedBefore = current;
    return made;
  }

  /** The stored statements, oldest range first. */
  async list(): Promise<SignedPeriod[]> {
    const docs = await this.db.kv.find({ selector: { key: { $regex: '^period:' } } }).exec();
    return docs
      .map((d) => {
        const [, from, to] = d.key.split(':');
        const v = d.value as { cose: string; leaves: number; days: number };
        return {
          fromDay: Number(from),
          toDay: Number(to),
          cose: new Uint8Array(Buffer.from(v.cose, 'base64')),
          leaves: v.leaves,
          days: v.days,
        };
      })
      .sort((a, b) => a.fromDay - b.fromDay || a.toDay - b.toDay);
  }
}
