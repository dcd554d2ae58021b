/**
 * What `maverick regional evidence` gathers from the regional store for a pack: for each
 * gateway-signed period statement, the period's leaves rebuilt from the format-3 bundles the
 * node holds (PROOF.md §5: days ascending, bundles by sequence, leaves in bundle order), the
 * plot's registered geometry, and the keys with their registration.
 */
import type { PlotDefinition } from '../proto/bundle/types.js';
import { ErrorCode, MaverickError } from '../proto/errors.js';
import type { KeyRegistration } from '../proto/evidence/pack.js';
import { type BundleLeaves, leavesOfBundle } from '../proto/proof/bundle-leaves.js';
import { verifyPeriodStatement } from '../proto/proof/period.js';
import type { HeldPeriod } from './evidence.js';
import type { GatewayRegistry } from './registry.js';
import type { RegionalStore } from './store.js';

const DAY_MS = 86_400_000;

/** The records a statement commits to, rebuilt from the node's bundles of its gateway. */
export async function heldPeriod(
  store: RegionalStore,
  registry: GatewayRegistry,
  statement: Uint8Array,
): Promise<HeldPeriod & { gatewayId: string }> {
  // Held already: a key removed since still verifies what it signed while in use.
  const resolve = (kid: Uint8Array) => registry.resolveStored(kid)?.publicKey;
  const v = verifyPeriodStatement(statement, resolve);
  const gatewayId = v.claims.iss;
  const { fromDay, toDay } = v.statement;
  const days = new Map<number, { bundles: BundleLeaves[]; complete: boolean }>();
  for (const stored of await store.listBundles(gatewayId)) {
    // A disputed or overruled bundle is kept as proof of the conflict, never as evidence.
    if (stored.disputed || stored.overruled) continue;
    const day = Math.floor(stored.timeEnd / DAY_MS);
    if (day < fromDay || day > toDay) continue;
    const entry = days.get(day) ?? { bundles: [], complete: true };
    const leaves = leavesOfBundle(stored.cose, resolve);
    // A day holding a format 1 or 2 bundle has no day root (PROOF.md §4): the gateway committed none of it.
    if (leaves) entry.bundles.push(leaves);
    else entry.complete = false;
    days.set(day, entry);
  }
  const ordered = [...days]
    .filter(([, d]) => d.complete)
    .sort(([a], [b]) => a - b)
    .flatMap(([, d]) => d.bundles.sort((x, y) => x.seq - y.seq));
  return {
    gatewayId,
    statement,
    leaves: ordered.flatMap((b) => b.leaves),
    records: ordered.flatMap((b) => b.records),
  };
}

/** The plot's geometry as its gateways registered it (the most recent definition wins). */
export async function plotDefinitionOf(
  store: RegionalStore,
  plotId: string,
  gatewayIds: readonly string[],
): Promise<PlotDefinition> {
  let definition: PlotDefinition | undefined;
  for (const gatewayId of gatewayIds) {
    for (const stored of await store.listBundles(gatewayId)) {
      for (const p of stored.plots) {
        if (p.plotId !== plotId) continue;
        definition = (await store.getPlotDefinition(p.geometryHash))?.definition ?? definition;
      }
    }
  }
  if (!definition) {
    throw new MaverickError(
      ErrorCode.RegionalStore,
      `plot ${plotId}: no geometry registered by its gateways`,
      {
        hint: 'the bundle that first carried the plot has not reached this node; sync it from the gateway',
      },
    );
  }
  return definition;
}

/** The registration of every key of the given gateways, and the node's own key. */
export function keyRegistrations(
  registry: GatewayRegistry,
  gatewayIds: readonly string[],
  regional: { issuer: string; publicKey: Uint8Array; since: number },
): KeyRegistration[] {
  const gateways = registry
    .list({ includeRemoved: true })
    .filter((k) => gatewayIds.includes(k.gatewayId))
    .map(
      (k): KeyRegistration => ({
        role: 'gateway',
        id: k.gatewayId,
        publicKey: k.publicKey,
        addedAt: k.addedAt,
        removedAt: k.removedAt ?? null,
      }),
    );
  return [
    ...gateways,
    {
      role: 'regional',
      id: regional.issuer,
      publicKey: regional.publicKey,
      addedAt: regional.since,
      removedAt: null,
    },
  ];
}
