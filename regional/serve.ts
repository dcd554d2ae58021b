/**
 * The regional node as a service: the durable store, the gateway registry, and
 * the MQTT intake (on an embedded broker or an existing one), bundles and
 * daily commitments acknowledged by digest.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { RxStorage } from 'rxdb';
import { loadOrCreateNodeKey, type NodeKey } from '../kernel/keys/node-key.js';
import type { Logger } from '../proto/log.js';
import { ingestCommitment } from './commitments.js';
import { type DirectIpIntake, type DirectIpIntakeOptions, startDirectIpIntake } from './directip-intake.js';
import { type OpenedRegional, openRegional } from './open-node.js';
import { ingestPeriodStatement } from './period-statements.js';
import { type OtherItemHandler, type RegionalTransport, startRegionalTransport } from './transport/index.js';

export interface RegionalServiceOptions {
  dataDir: string;
  /** An existing broker (e.g. mosquitto); when absent an embedded one listens on `embedded`. */
  brokerUrl?: string;
  embedded?: {
    host?: string;
    port: number;
    allowPlaintextBeyondLoopback?: boolean;
    /** Gateways' passwd file: each gateway confined to its own topics (transport/broker-acl.ts). */
    gatewayPasswordFile?: string;
  };
  credentials?: { username: string; password: string };
  /** PostgreSQL instead of the embedded store. */
  postgres?: { url: string; password?: string; poolSize?: number };
  /** Horizontal intake: share the subscription with the other workers of this group. */
  sharedGroup?: string;
  /** This worker's MQTT client id (stable across restarts, distinct per worker). */
  clientId?: string;
  /** MQTT sessions of this worker. */
  connections?: number;
  /** Items this worker settles at once (default 32); the PostgreSQL pool defaults to this size. */
  inFlight?: number;
  // biome-ignore lint/suspicious/noExplicitAny: storage internals are opaque here
  storage?: RxStorage<any, any>;
  /** Iridium SBD DirectIP MO intake ([directip] in the config). */
  directip?: Omit<DirectIpIntakeOptions, 'regional' | 'onOther' | 'logger'>;
  logger: Logger;
}

/** The regional node's ack key: `<dataDir>/keys/regional-node.key` (0600) and `.pub` for the gateways. */
export function loadRegionalKey(dataDir: string): Promise<NodeKey> {
  return loadOrCreateNodeKey(join(dataDir, 'keys'), 'regional-node');
}

export const REGIONAL_ISSUER = 'maverick-regional';

export interface RegionalService {
  readonly regional: OpenedRegional;
  /** The key that signs every ack; gateways are configured with `key.publicKeyFile`. */
  readonly key: NodeKey;
  readonly transport: RegionalTransport;
  readonly directip?: DirectIpIntake;
  close(): Promise<void>;
}

/**
 * What the node does with items other than bundles, on every path they arrive by (MQTT,
 * satellite): daily commitments and period statements are verified and stored; anything else
 * is refused.
 */
export function commitmentIntake(
  regional: Pick<OpenedRegional, 'registry' | 'store'>,
  logger?: Logger,
): OtherItemHandler {
  const deps = { registry: regional.registry, store: regional.store, ...(logger ? { logger } : {}) };
  return async (item) => {
    if (item.kind === 'commitment')
      return (await ingestCommitment(deps, item.bytes, { source: item.source })).status;
    if (item.kind === 'statement')
      return (await ingestPeriodStatement(deps, item.bytes, { source: item.source })).status;
    return 'rejected';
  };
}

/**
 * The node's own broker login. Confined gateways need the node to log in as
 * someone else: without configured credentials it gets a random one, known
 * only to this process.
 */
function brokerLogin(options: RegionalServiceOptions): { username: string; password: string } | undefined {
  if (options.credentials || options.brokerUrl || !options.embedded?.gatewayPasswordFile)
    return options.credentials;
  return { username: 'maverick-regional', password: randomBytes(24).toString('base64url') };
}

export async function startRegionalService(options: RegionalServiceOptions): Promise<RegionalService> {
  const key = await loadRegionalKey(options.dataDir);
  if (key.created)
    options.logger.info(
      { publicKeyFile: key.publicKeyFile },
      'regional ack key created; give its .pub to gateways',
    );
  const regional = await openRegional({
    dataDir: options.dataDir,
    logger: options.logger,
    ...(options.storage ? { storage: options.storage } : {}),
    ...(options.postgres
      ? { postgres: { ...options.postgres, poolSize: options.postgres.poolSize ?? options.inFlight } }
      : {}),
  });
  const credentials = brokerLogin(options);
  let transport: RegionalTransport;
  let directip: DirectIpIntake | undefined;
  const onOther = commitmentIntake(regional, options.logger);
  try {
    if (options.directip)
      directip = await startDirectIpIntake({
        ...options.directip,
        regional,
        onOther,
        logger: options.logger,
      });
    transport = await startRegionalTransport({
      node: regional.node,
      acks: { key, issuer: REGIONAL_ISSUER },
      ...(options.brokerUrl
        ? { brokerUrl: options.brokerUrl }
        : { embedded: options.embedded ?? { port: 1884 } }),
      ...(credentials ? { credentials } : {}),
      ...(options.sharedGroup ? { sharedGroup: options.sharedGroup } : {}),
      ...(options.clientId ? { clientId: options.clientId } : {}),
      ...(options.connections ? { connections: options.connections } : {}),
      ...(options.inFlight ? { inFlight: options.inFlight } : {}),
      logger: options.logger,
      onOther,
      // An item that arrives whole over MQTT drops its satellite partial (only then: one cheap statement).
      ...(directip ? { reassembler: directip.reassembler.forOtherLinks } : {}),
    });
  } catch (err) {
    await directip?.close();
    await regional.close();
    throw err;
  }
  return {
    regional,
    key,
    transport,
    ...(directip ? { directip } : {}),
    async close() {
      await directip?.close();
      await transport.close();
      await regional.close();
    },
  };
}
