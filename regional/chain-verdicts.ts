/**
 * Chain verdicts that do not depend on arrival order. Every validly signed
 * bundle of a gateway is kept; whether it may serve as evidence is a function
 * of the SET of bundles held, never of which came first:
 *   - two or more bundles with one sequence number  → all of them are disputed
 *     (equivocation: the gateway signed two histories)
 *   - a bundle whose previous hash matches no held bundle of the sequence
 *     before it (or, at sequence 1, is not the genesis hash) → it and every
 *     held bundle of the sequence before are disputed (broken link)
 * A disputed bundle is not evidence until an operator resolves the conflict.
 * Because a bundle's verdict depends only on its own sequence and the two
 * around it, an arrival at sequence s can change verdicts at s-1, s and s+1
 * only, and deciding those needs the bundles of s-2 … s+2.
 */

/** What the chain logic needs of a held bundle. */
export interface ChainLink {
  seq: number;
  digest: string;
  prevHash: string;
  disputed: boolean;
  /** An operator ruled it out of the chain: kept as proof, ignored by every verdict. */
  overruled?: boolean;
}

export const GENESIS_HEX = '00'.repeat(32);

export type SeqGroups = Map<number, ChainLink[]>;

export function groupBySeq(links: readonly ChainLink[]): SeqGroups {
  const groups: SeqGroups = new Map();
  for (const link of links) {
    const group = groups.get(link.seq);
    if (group) group.push(link);
    else groups.set(link.seq, [link]);
  }
  return groups;
}

/** True when the link's previous hash matches nothing held at the sequence before (genesis at 1). */
export function hasBrokenLink(link: ChainLink, groups: SeqGroups): boolean {
  if (link.seq === 1) return link.prevHash !== GENESIS_HEX;
  const before = groups.get(link.seq - 1);
  if (!before || before.length === 0) return false;
  return !before.some((p) => p.digest === link.prevHash);
}

/** The verdict of one held bundle; `groups` must hold sequences seq-1 … seq+1 completely (and seq-2 for seq-1's links). */
export function isDisputed(link: ChainLink, groups: SeqGroups): boolean {
  if ((groups.get(link.seq)?.length ?? 0) > 1) return true;
  if (hasBrokenLink(link, groups)) return true;
  return (groups.get(link.seq + 1) ?? []).some((next) => hasBrokenLink(next, groups));
}

/** Verdicts after `link` joins the held window of s-2 … s+2: every link of s-1 … s+1 whose verdict is now different, and the new link's. */
export function verdictsAfterArrival(
  window: readonly ChainLink[],
  arriving: ChainLink,
): { arriving: ChainLink; changed: ChainLink[] } {
  const all = [...window, { ...arriving }];
  const groups = groupBySeq(all);
  const changed: ChainLink[] = [];
  let settled = arriving;
  for (const link of all) {
    if (Math.abs(link.seq - arriving.seq) > 1) continue;
    const disputed = isDisputed(link, groups);
    if (link.digest === arriving.digest && link.seq === arriving.seq) settled = { ...link, disputed };
    else if (disputed !== link.disputed) changed.push({ ...link, disputed });
  }
  return { arriving: settled, changed };
}

/** Verdicts of s-1 … s+1 after the held window of s-2 … s+2 changed in place (an operator's ruling): the links whose verdict differs. */
export function verdictsAround(window: readonly ChainLink[], seq: number): ChainLink[] {
  const live = window.filter((l) => !l.overruled);
  const groups = groupBySeq(live);
  return live
    .filter((l) => Math.abs(l.seq - seq) <= 1)
    .flatMap((l) => {
      const disputed = isDisputed(l, groups);
      return disputed === l.disputed ? [] : [{ ...l, disputed }];
    });
}

/** Missing sequence ranges between consecutive held sequence numbers (0 stands for "before the first"). */
export function missingBetween(below: number, above: number): [number, number] | undefined {
  return above - below > 1 ? [below + 1, above - 1] : undefined;
}
