/** `maverick bundle seal` and `maverick bundle export`: sealing now and taking the exact signed bytes out. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { RxDocument } from 'rxdb';
import { loadConfig } from '../../gateway/config/index.js';
import { createSealer } from '../../gateway/sealing.js';
import { postAction } from '../../gateway/status/client.js';
import { openGatewayDatabase } from '../../gateway/store-access.js';
import { type BundleDoc, bundleId } from '../../kernel/db/schemas.js';

type BundleDocument = RxDocument<BundleDoc>;

import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { silentLogger } from '../../proto/log.js';
import { printJson, renderTable } from '../format/table.js';

interface SealSummary {
  seq: number;
  uplinks: number;
  bytes: number;
}

/**
 * A running gateway seals in its own process (two sealers would race for one sequence number).
 * Only this data directory's gateway: postAction checks who answered and sends the token.
 */
async function sealViaRunningGateway(dataDir: string): Promise<SealSummary[] | undefined> {
  const body = await postAction(dataDir, '/seal');
  if (body === undefined) return undefined; // not running
  if (!Array.isArray(body)) {
    throw new MaverickError(
      ErrorCode.BundleSequence,
      'the running gateway answered /seal with something else',
    );
  }
  return body as SealSummary[];
}

async function sealHere(dataDir: string): Promise<SealSummary[]> {
  const config = loadConfig(dataDir);
  const db = await openGatewayDatabase(dataDir);
  try {
    const sealer = await createSealer(dataDir, db, config.gateway.id, {}, silentLogger);
    const sealed = await sealer.sealNow();
    return sealed.map((b) => ({ seq: b.seq, uplinks: b.uplinks, bytes: b.cose.length }));
  } finally {
    await db.close();
  }
}

export function registerBundleStoreCommands(bundle: Command): void {
  bundle
    .command('seal')
    .description(
      'seal every unsealed uplink into signed bundles now (through the running gateway if there is one)',
    )
    .requiredOption('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON')
    .action(async (flags: { dataDir: string; json?: boolean }) => {
      const sealed = (await sealViaRunningGateway(flags.dataDir)) ?? (await sealHere(flags.dataDir));
      if (flags.json) return printJson(sealed);
      if (sealed.length === 0) {
        process.stdout.write('nothing to seal: every stored uplink is already in a bundle\n');
        return;
      }
      process.stdout.write(
        `${renderTable(
          ['seq', 'uplinks', 'bytes'],
          sealed.map((s) => [s.seq, s.uplinks, s.bytes]),
        )}\n`,
      );
    });

  bundle
    .command('export')
    .description('write the exact signed bytes of a bundle (default: the latest) to a file')
    .requiredOption('--data-dir <dir>', 'data directory')
    .requiredOption('--out <file>', 'output file (COSE_Sign1, CBOR)')
    .option('--seq <n>', 'the bundle sequence number')
    .action(async (flags: { dataDir: string; out: string; seq?: string }) => {
      const db = await openGatewayDatabase(flags.dataDir);
      try {
        let doc: BundleDocument | null;
        if (flags.seq !== undefined) {
          const seq = Number(flags.seq);
          if (!Number.isSafeInteger(seq) || seq < 0)
            throw new MaverickError(ErrorCode.CliUsage, '--seq must be a non-negative integer');
          doc = await db.bundles.findOne(bundleId(seq)).exec();
        } else {
          doc = await db.bundles.findOne({ selector: {}, sort: [{ id: 'desc' }] }).exec();
        }
        if (!doc) {
          throw new MaverickError(
            ErrorCode.BundleSequence,
            flags.seq ? `no bundle with sequence number ${flags.seq}` : 'no bundle sealed yet',
            {
              hint: 'run `maverick bundle seal --data-dir DIR` first',
            },
          );
        }
        const bytes = Buffer.from(doc.cose, 'base64');
        writeFileSync(flags.out, bytes);
        process.stdout.write(
          `bundle ${doc.seq} (${bytes.length} bytes, ${doc.uplinkCount} uplinks, sha256 ${doc.digest}) written to ${flags.out}\n`,
        );
      } finally {
        await db.close();
      }
    });
}
