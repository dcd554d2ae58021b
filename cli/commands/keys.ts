/** `maverick keys show|rotate|export-public`: the gateway's Ed25519 signing keys. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  type GatewayPublicKeyEntry,
  keysDir,
  listGatewayPublicKeys,
  publicKeyToPem,
  rotateGatewayKey,
} from '../../kernel/keys/gateway-key.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import type { RegisterCommand } from './index.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

async function keysOf(dataDir: string): Promise<GatewayPublicKeyEntry[]> {
  const keys = await listGatewayPublicKeys(dataDir);
  if (keys.length === 0) {
    throw new MaverickError(ErrorCode.KeyMissing, `no gateway key in ${keysDir(dataDir)}`, {
      hint: `run maverick init --data-dir ${dataDir}`,
    });
  }
  return keys;
}

export const registerKeys: RegisterCommand = (program: Command) => {
  const keys = program.command('keys').description("the gateway's bundle signing keys (Ed25519)");

  keys
    .command('show')
    .description('list every key this gateway has had; * marks the current signing key')
    .requiredOption('--data-dir <dir>', 'data directory')
    .option('--json', 'one JSON document on stdout')
    .action(async (flags: { dataDir: string; json?: boolean }) => {
      const list = await keysOf(resolve(flags.dataDir));
      if (flags.json) {
        const rows = list.map((k) => ({
          kid: hex(k.kid),
          createdAt: k.createdAt,
          current: k.current,
          publicKey: hex(k.publicKey),
        }));
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      process.stdout.write('  kid               created                   public key (hex)\n');
      for (const k of list) {
        process.stdout.write(
          `${k.current ? '*' : ' '} ${hex(k.kid)}  ${k.createdAt.padEnd(24)}  ${hex(k.publicKey)}\n`,
        );
      }
    });

  keys
    .command('rotate')
    .description(
      'make a new current signing key; earlier public keys stay listed so old bundles still verify',
    )
    .requiredOption('--data-dir <dir>', 'data directory')
    .action(async (flags: { dataDir: string }) => {
      const dataDir = resolve(flags.dataDir);
      const before = (await keysOf(dataDir)).find((k) => k.current);
      const key = await rotateGatewayKey(dataDir);
      process.stdout.write(
        `new signing key ${hex(key.kid)} (was ${before ? hex(before.kid) : 'none'}).\n` +
          'Restart the gateway (systemctl restart maverick) so it signs with the new key, and give the\n' +
          'regional node the new public key: maverick keys export-public --data-dir DIR --out FILE\n',
      );
    });

  keys
    .command('export-public')
    .description('write the current public key as PEM (SubjectPublicKeyInfo), for the regional node')
    .requiredOption('--data-dir <dir>', 'data directory')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--kid <kid>', 'export this key (16 hex characters) instead of the current one')
    .action(async (flags: { dataDir: string; out?: string; kid?: string }) => {
      const list = await keysOf(resolve(flags.dataDir));
      const wanted = flags.kid?.toLowerCase();
      const key =
        wanted === undefined ? list.find((k) => k.current) : list.find((k) => hex(k.kid) === wanted);
      if (!key) {
        throw new MaverickError(
          ErrorCode.KeyMissing,
          `no key ${wanted ?? '(current)'} in ${keysDir(flags.dataDir)}`,
          {
            hint: 'maverick keys show lists the key ids',
          },
        );
      }
      const pem = publicKeyToPem(key.publicKey);
      if (flags.out) {
        writeFileSync(flags.out, pem, { mode: 0o644 });
        process.stderr.write(`public key ${hex(key.kid)} written to ${flags.out}\n`);
      } else {
        process.stdout.write(pem);
      }
    });
};
