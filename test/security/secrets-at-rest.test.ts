/**
 * Attack 7 of the hardening issue (files): the store holds AppKeys and session
 * keys, so `device add` must leave store/ 0700 and the SQLite files 0600 (they
 * were 0755 / 0644); `doctor` must flag a data directory others can read; a
 * store that existed and is now zero bytes or gone must not come back empty
 * (devices, sessions and DevNonces lost) unless the operator says
 * --init-store; and a maverick.toml holding a password must be 0600.
 */
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/app.js';
import { initSetup, loadConfig } from '../../gateway/config/index.js';
import { runDoctor } from '../../gateway/doctor/doctor.js';
import { startGatewayRuntime } from '../../gateway/runtime.js';
import { gatewayDatabaseFile, storeDirectory } from '../../gateway/store-files.js';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import { silentLogger } from '../../proto/log.js';
import { runCli } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'maverick-secrets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

async function setUp(name: string): Promise<string> {
  const dataDir = join(root, name);
  await initSetup({ dataDir, gatewayId: 'b827ebfffe0000c1', mqttPassword: 'pw-secrets' });
  return dataDir;
}

function runtimeOn(dataDir: string, initStore = false) {
  return startGatewayRuntime({
    dataDir,
    gatewayId: 'b827ebfffe0000c1',
    regionId: 'EU868',
    radios: [],
    mqtt: { kind: 'embedded', host: '127.0.0.1', port: 0, username: 'farm', password: 'pw-secrets' },
    synchronous: 'NORMAL',
    ...(initStore ? { initStore: true } : {}),
  });
}

describe('secrets at rest', () => {
  it('device add leaves store/ 0700 and every SQLite file 0600, whatever the umask', async () => {
    const dataDir = await setUp('modes');
    const previous = process.umask(0o022);
    try {
      const add = await runCli(
        [
          'device',
          'add',
          '--dev-eui',
          '0102030405060708',
          '--data-dir',
          dataDir,
          '--app-key',
          '2b7e151628aed2a6abf7158809cf4f3c',
        ],
        { timeoutMs: 60_000 },
      );
      expect(add.code, add.stderr).toBe(0);
    } finally {
      process.umask(previous);
    }
    expect(mode(storeDirectory(dataDir))).toBe(0o700);
    const database = gatewayDatabaseFile(dataDir);
    for (const file of [database, `${database}-wal`, `${database}-shm`]) {
      if (existsSync(file)) expect(mode(file), file).toBe(0o600);
    }
    expect(mode(database)).toBe(0o600);
  }, 90_000);

  it('doctor fails a data directory that group or others can read', async () => {
    const dataDir = await setUp('doctor');
    chmodSync(dataDir, 0o755);
    const report = await runDoctor({
      dataDir,
      probeTimeoutMs: 200,
      listenMs: 10,
      fetchStatus: async () => undefined,
    });
    expect(report.checks.find((c) => c.id === 'data-dir')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining(`chmod 700 ${dataDir}`),
    });
    chmodSync(dataDir, 0o700);
    const fixed = await runDoctor({
      dataDir,
      probeTimeoutMs: 200,
      listenMs: 10,
      fetchStatus: async () => undefined,
    });
    expect(fixed.checks.find((c) => c.id === 'data-dir')?.status).toBe('ok');
  }, 60_000);

  it('a zero-byte or missing store refuses to start with a recovery hint; --init-store starts an empty one', async () => {
    const dataDir = await setUp('lost');
    const first = await runtimeOn(dataDir);
    await first.stop();
    const database = gatewayDatabaseFile(dataDir);
    for (const suffix of ['-wal', '-shm']) if (existsSync(database + suffix)) unlinkSync(database + suffix);
    truncateSync(database, 0);
    for (const attempt of ['zero bytes', 'missing']) {
      const err = await runtimeOn(dataDir).then(
        async (rt) => {
          await rt.stop();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(isMaverickError(err, ErrorCode.StoreCorrupt), `${attempt}: ${String(err)}`).toBe(true);
      expect((err as Error).message).toContain('--init-store');
      expect((err as Error).message).toContain('every device, session and DevNonce');
      if (attempt === 'zero bytes') unlinkSync(database);
    }
    const fresh = await runtimeOn(dataDir, true);
    expect(await fresh.repository.listDevices()).toEqual([]);
    await fresh.stop();
    // From then on the new store is the one that must not be lost.
    expect(statSync(database).size).toBeGreaterThan(0);
  }, 60_000);

  it('a maverick.toml holding a password must be 0600 before the gateway starts', async () => {
    const dataDir = await setUp('toml');
    const file = join(dataDir, 'maverick.toml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        '[regional]',
        '[regional]\nurl = "mqtt://gw:regional-secret@127.0.0.1:1"',
      ),
    );
    chmodSync(file, 0o644);
    const err = await startGateway(loadConfig(dataDir), silentLogger).catch((e: unknown) => e);
    expect(isMaverickError(err, ErrorCode.KeyFilePermissions)).toBe(true);
    expect((err as Error).message).toContain('regional.url');
    expect((err as Error).message).toContain(`chmod 600 ${file}`);
  });
});
