/** `maverick device add|import|list|remove`: the device registry (works while `maverick run` runs). */
import type { Command } from 'commander';
import { loadConfig } from '../../gateway/config/index.js';
import { withGatewayStore } from '../../gateway/store-access.js';
import { deviceHealth } from '../../kernel/db/device-health.js';
import type { FarmDatabase } from '../../kernel/db/farm-db.js';
import { listPlots } from '../../kernel/db/plots.js';
import { listDevices, registerDevice as register, removeDevice } from '../../kernel/ns/registry.js';
import type { RegionId } from '../../kernel/ns/types.js';
import { normalizeHex } from '../../kernel/ns/types.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { printJson, renderTable } from '../format/table.js';
import { type AddFlags, activationFromFlags, codecFromFlag } from './device-flags.js';
import { checkImport, IMPORT_COLUMNS, readImportFile, registerAll } from './device-import.js';
import type { RegisterCommand } from './index.js';

/** The gateway's region from its config, so devices default to the band the gateway listens on. */
function gatewayRegion(dataDir: string): string {
  try {
    return loadConfig(dataDir).gateway.region;
  } catch {
    return 'EU868';
  }
}

async function plotIds(db: FarmDatabase): Promise<Set<string>> {
  return new Set((await listPlots(db)).map((p) => p.id));
}

function checkPlot(plot: string | undefined, plots: Set<string>): void {
  if (plot !== undefined && !plots.has(plot)) {
    throw new MaverickError(ErrorCode.CliUsage, `--plot ${plot}: no such plot`, {
      hint: plots.size
        ? `known plots: ${[...plots].join(', ')} (see \`maverick plot list\`)`
        : 'add it first with `maverick plot add`',
    });
  }
}

/** Per-device rows of `device list` and `status`: registry, session and health from the store. */
export async function deviceRows(db: FarmDatabase, repository: Parameters<typeof listDevices>[0]) {
  const devices = await listDevices(repository);
  const now = Date.now();
  return Promise.all(
    devices.map(async (d) => {
      const session = await repository.getSession(d.devEui);
      const health = await deviceHealth(db, d, session, now);
      return {
        name: d.name,
        applicationId: d.applicationId,
        region: d.regionId,
        activation: d.activation.mode,
        codec: d.codec.kind === 'js' ? d.codec.path : d.codec.kind,
        plotId: d.plotId,
        devAddr: session?.devAddr,
        joinedAt: session?.joinedAt,
        ...health,
      };
    }),
  );
}

type DeviceRow = Awaited<ReturnType<typeof deviceRows>>[number];

function batteryText(b: DeviceRow['battery']): string {
  return b === undefined ? '' : b === 'external' ? 'external' : `${b}%`;
}

export function renderDeviceHealth(rows: DeviceRow[]): string {
  return renderTable(
    ['devEui', 'name', 'mode', 'last seen', 'rssi', 'snr', 'battery', 'fCntUp', '24h', 'last error'],
    rows.map((r) => [
      r.devEui,
      r.name,
      r.activation,
      r.lastSeen,
      r.rssi,
      r.snr,
      batteryText(r.battery),
      r.fCntUp,
      r.uplinks24h,
      r.lastError ? r.lastError.slice(0, 40) : '',
    ]),
  );
}

export const registerDevice: RegisterCommand = (program: Command) => {
  const device = program.command('device').description('register, import, list and remove LoRaWAN devices');

  device
    .command('add')
    .description('register an OTAA (--join-eui --app-key) or ABP (--dev-addr --nwk-s-key --app-s-key) device')
    .requiredOption('--data-dir <dir>', 'data directory')
    .requiredOption(
      '--dev-eui <hex16>',
      'DevEUI as printed on the label (dashes, colons, spaces and either case are fine)',
    )
    .option('--name <name>', 'a name the farm knows it by')
    .option('--application <id>', 'application id (MQTT topic application/{id}/...)', 'farm')
    .option('--region <region>', 'region plan, any case, e.g. AU915 or AS923-2 (default: the gateway region)')
    .option('--join-eui <hex16>', 'OTAA JoinEUI / AppEUI (default 0000000000000000)')
    .option('--app-key <hex32>', 'OTAA AppKey')
    .option('--dev-addr <hex8>', 'ABP DevAddr')
    .option('--nwk-s-key <hex32>', 'ABP NwkSKey')
    .option('--app-s-key <hex32>', 'ABP AppSKey')
    .option(
      '--codec <codec>',
      'payload codec: cayenne-lpp, none, or PATH.js (decodeUplink/encodeDownlink)',
      'none',
    )
    .option('--plot <id>', 'the plot this device measures (see `maverick plot add`)')
    .option('--skip-fcnt-check', 'ABP devices that reset their frame counter on power loss (not replay-safe)')
    .option('--force', 'replace a device already registered with this DevEUI (says what changed)')
    .action(async (flags: AddFlags & { force?: boolean }) => {
      const { device: added, changes } = await withGatewayStore(flags.dataDir, async (db, repository) => {
        checkPlot(flags.plot, await plotIds(db));
        return register(
          repository,
          {
            devEui: flags.devEui,
            name: flags.name ?? normalizeHex(flags.devEui, 8, 'devEui'),
            applicationId: flags.application,
            regionId: (flags.region ?? gatewayRegion(flags.dataDir)) as RegionId,
            codec: codecFromFlag(flags.codec),
            activation: activationFromFlags(flags),
            skipFCntCheck: flags.skipFcntCheck ?? false,
            ...(flags.plot ? { plotId: flags.plot } : {}),
          },
          { force: flags.force ?? false },
        );
      });
      const what = `${added.activation.mode.toUpperCase()}, ${added.regionId}`;
      if (!changes) {
        process.stdout.write(`device ${added.devEui} (${what}) registered\n`);
      } else {
        process.stdout.write(
          `device ${added.devEui} (${what}) replaced; ${changes.length ? `changed: ${changes.join('; ')}` : 'nothing changed'}\n`,
        );
      }
    });

  device
    .command('import')
    .description(
      `register many devices from CSV or JSON, all or nothing (columns: ${IMPORT_COLUMNS.join(', ')})`,
    )
    .argument('<file>', 'a .csv with a header row, or a .json array of objects')
    .requiredOption('--data-dir <dir>', 'data directory')
    .option('--force', 'replace devices already registered with the same DevEUI')
    .action(async (file: string, flags: { dataDir: string; force?: boolean }) => {
      const rows = readImportFile(file);
      const count = await withGatewayStore(flags.dataDir, async (db, repository) => {
        const plots = await plotIds(db);
        const { inputs, problems } = await checkImport(rows, {
          repository,
          defaultRegion: gatewayRegion(flags.dataDir),
          force: flags.force ?? false,
          plotExists: (id) => plots.has(id),
        });
        if (problems.length) {
          throw new MaverickError(
            ErrorCode.CliUsage,
            `${file}: ${problems.length} problem(s), nothing was registered:\n  ${problems.join('\n  ')}`,
            { hint: 'fix these rows and import the file again' },
          );
        }
        return registerAll(repository, inputs, flags.force ?? false);
      });
      process.stdout.write(`${count} device(s) registered from ${file}\n`);
    });

  device
    .command('list')
    .description(
      'registered devices with their health: last seen, RSSI/SNR, battery, FCnt, uplinks in 24 h, last error',
    )
    .requiredOption('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON (keys are not printed)')
    .action(async (flags: { dataDir: string; json?: boolean }) => {
      const rows = await withGatewayStore(flags.dataDir, deviceRows);
      if (flags.json) return printJson(rows);
      process.stdout.write(`${renderDeviceHealth(rows)}\n`);
    });

  device
    .command('remove')
    .description('remove a device with its session and nonces')
    .requiredOption('--data-dir <dir>', 'data directory')
    .requiredOption('--dev-eui <hex16>', 'DevEUI')
    .action(async (flags: { dataDir: string; devEui: string }) => {
      await withGatewayStore(flags.dataDir, (_db, repository) => removeDevice(repository, flags.devEui));
      process.stdout.write(`device ${normalizeHex(flags.devEui, 8, 'devEui')} removed\n`);
    });
};
