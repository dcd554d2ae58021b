/**
 * `maverick bundle verify FILE --pub PEM`: checks a bundle with nothing but the
 * gateway's public key, prints the decoded summary, exits non-zero with the
 * precise reason when it is not valid. `bundle seal` / `bundle export` are in
 * bundle-store.ts.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { verifyBundle } from '../../proto/bundle/bundle.js';
import { keyIdOf, toHex } from '../../proto/bundle/ed25519.js';
import { deviceSummaryJson } from '../../proto/bundle/payload.js';
import { publicKeyFromPem } from '../../proto/bundle/pem.js';
import { printProofObject, registerBundleStatementCommand, verifyProofObject } from './bundle-proof.js';
import { registerBundleStoreCommands } from './bundle-store.js';
import type { RegisterCommand } from './index.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export const registerBundle: RegisterCommand = (program: Command) => {
  const bundle = program.command('bundle').description('signed compliance bundles (COSE_Sign1, Ed25519)');
  registerBundleStoreCommands(bundle);
  registerBundleStatementCommand(bundle);

  bundle
    .command('verify <file>')
    .description(
      'verify a bundle, bundle statement, daily commitment, period statement or receipt against a gateway public key (PEM)',
    )
    .requiredOption('--pub <pem>', 'the gateway public key, as written by `maverick keys export-public`')
    .option('--max-bytes <n>', 'refuse bundles larger than this', String(16 * 1024 * 1024))
    .option('--leaf <file...>', 'receipts: the disclosed leaves (CBOR files), one per proof, in order', [])
    .option('--json', 'one JSON document on stdout')
    .action((file: string, flags: { pub: string; maxBytes: string; leaf: string[]; json?: boolean }) => {
      const publicKey = publicKeyFromPem(readFileSync(flags.pub, 'utf8'));
      const kid = keyIdOf(publicKey);
      const resolve = (candidate: Uint8Array) =>
        Buffer.compare(candidate, kid) === 0 ? publicKey : undefined;
      const cose = new Uint8Array(readFileSync(file));
      const other = verifyProofObject(cose, resolve, flags.leaf);
      if (other) {
        printProofObject({ ...other, file }, flags.json === true);
        return;
      }
      const {
        envelope,
        bundle: b,
        digest,
      } = verifyBundle(cose, resolve, {
        maxBytes: Number(flags.maxBytes),
      });
      const summary = {
        valid: true,
        file,
        bytes: cose.length,
        digest: toHex(digest),
        kid: toHex(envelope.kid),
        alg: envelope.alg,
        gateway: envelope.claims.iss,
        scope: envelope.claims.sub,
        issuedAt: new Date(envelope.claims.iat * 1000).toISOString(),
        seq: b.seq,
        prevHash: toHex(b.prevHash),
        timeRange: { start: iso(b.timeRange.start), end: iso(b.timeRange.end) },
        uplinks: b.uplinks.length,
        timeSources: b.timeSources,
        compressed: b.compress,
        ...(b.commitment ? { leaves: b.commitment.leaves, root: toHex(b.commitment.root) } : {}),
        plots: b.plots.map((p) => ({
          plotId: p.plotId,
          geometryHash: toHex(p.geometryHash),
          carriesGeometry: !!p.definition,
        })),
        devices: b.devices.map(deviceSummaryJson),
      };
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      const out = process.stdout;
      out.write(
        `VALID bundle ${summary.seq} from ${summary.gateway} (${summary.scope}), key ${summary.kid}\n`,
      );
      out.write(`  digest   ${summary.digest}\n  previous ${summary.prevHash}\n`);
      out.write(
        `  time     ${summary.timeRange.start} .. ${summary.timeRange.end}, issued ${summary.issuedAt}\n`,
      );
      out.write(
        `  uplinks  ${summary.uplinks} (time: gps ${b.timeSources.gps}, ntp ${b.timeSources.ntp}, unsynced host ${b.timeSources['host-unsynced']})\n`,
      );
      for (const d of summary.devices) {
        const gaps = d.missingFCnt.length
          ? ` missing FCnt ${d.missingFCnt.map(([a, z]) => (a === z ? `${a}` : `${a}-${z}`)).join(',')}`
          : '';
        out.write(
          `  device   ${d.devEui} plot ${d.plotId ?? '-'}: ${d.uplinks} uplinks, FCnt ${d.fCnt[0]}..${d.fCnt[1]}${gaps}\n`,
        );
        if (d.sessions.length > 1) {
          const list = d.sessions.map((x) => `#${x.session} ${x.uplinks} (FCnt ${x.fCnt[0]}..${x.fCnt[1]})`);
          out.write(
            `           ${d.sessions.length} sessions (rejoins / counter resets): ${list.join(', ')}\n`,
          );
        }
      }
    });
};
