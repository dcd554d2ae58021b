/** `maverick device add|list|remove`: the device registry (works while `maverick run` runs). */
import type { Command } from 'commander';
import { loadConfig } from '../../gateway/config/index.js';
import { withGatewayStore } from '../../gateway/store-access.js';
import { addDevice, listDevices, removeDevice } from '../../kernel/ns/registry.js';
import type { Activation, CodecRef, RegionId } from '../../kernel/ns/types.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { printJson, renderTable } from '../format/table.js';
import type { RegisterCommand } from './index.js';

interface AddFlags {
  dataDir: string;
  devEui: string;
  name?: string;
  application: string;
  region?: string;
  joinEui?: string;
  appKey?: string;
  devAddr?: string;
  nwkSKey?: string;
  appSKey?: string;
  codec?: string;
  plot?: string;
  skipFcntCheck?: boolean;
}

export function activationFromFlags(flags: AddFlags): Activation {
  const otaa = flags.appKey !== undefined || flags.joinEui !== undefined;
  const abp = flags.devAddr !== undefined || flags.nwkSKey !== undefined || flags.appSKey !== undefined;
  if (otaa && abp) {
    throw new MaverickError(
      ErrorCode.CliUsage,
      'give either OTAA keys (--join-eui, --app-key) or ABP keys (--dev-addr, --nwk-s-key, --app-s-key), not both',
    );
  }
  if (otaa) {
    if (!flags.appKey)
      throw new MaverickError(ErrorCode.CliUsage, '--app-key is required for an OTAA device');
    return { mode: 'otaa', joinEui: flags.joinEui ?? '0000000000000000', appKey: flags.appKey };
  }
  if (abp) {
    if (!flags.devAddr || !flags.nwkSKey || !flags.appSKey) {
      throw new MaverickError(
        ErrorCode.CliUsage,
        'an ABP device needs --dev-addr, --nwk-s-key and --app-s-key',
      );
    }
    return { mode: 'abp', devAddr: flags.devAddr, nwkSKey: flags.nwkSKey, appSKey: flags.appSKey };
  }
  throw new MaverickError(
    ErrorCode.CliUsage,
    'give OTAA keys (--join-eui, --app-key) or ABP keys (--dev-addr, --nwk-s-key, --app-s-key)',
  );
}

/** The gateway's region from its config, so devices default to the band the gateway listens on. */
function gatewayRegion(dataDir: string): string {
  try {
    return loadConfig(dataDir).gateway.region;
  } catch {
    return 'EU868';
  }
}

export function codecFromFlag(codec: string | undefined): CodecRef {
  if (codec === undefined || codec === 'none') return { kind: 'none' };
  if (codec === 'cayenne-lpp') return { kind: 'cayenne-lpp' };
  if (codec.endsWith('.js')) return { kind: 'js', path: codec };
  throw new MaverickError(
    ErrorCode.CliUsage,
    `--codec ${codec}: use cayenne-lpp, none, or a path to a .js codec file`,
  );
}

export const registerDevice: RegisterCommand = (program: Command) => {
  const device = program.command('device').description('register, list and remove LoRaWAN devices');

  device
    .command('add')
    .description('register an OTAA (--join-eui --app-key) or ABP (--dev-addr --nwk-s-key --app-s-key) device')
    .requiredOption('--data-dir <dir>', 'data directory')
    .requiredOption('--dev-eui <hex16>', 'DevEUI as printed on the label')
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
    .action(async (flags: AddFlags) => {
      const added = await withGatewayStore(flags.dataDir, (_db, repository) =>
        addDevice(repository, {
          devEui: flags.devEui,
          name: flags.name ?? flags.devEui,
          applicationId: flags.application,
          regionId: (flags.region?.toUpperCase() ?? gatewayRegion(flags.dataDir)) as RegionId,
          codec: codecFromFlag(flags.codec),
          activation: activationFromFlags(flags),
          skipFCntCheck: flags.skipFcntCheck ?? false,
          ...(flags.plot ? { plotId: flags.plot } : {}),
        }),
      );
      process.stdout.write(
        `device ${added.devEui} (${added.activation.mode.toUpperCase()}, ${added.regionId}) registered\n`,
      );
    });

  device
    .command('list')
    .description('list registered devices')
    .requiredOption('--data-dir <dir>', 'data directory')
    .option('--json', 'print JSON (keys are not printed)')
    .action(async (flags: { dataDir: string; json?: boolean }) => {
      const rows = await withGatewayStore(flags.dataDir, async (_db, repository) => {
        const devices = await listDevices(repository);
        return Promise.all(
          devices.map(async (d) => {
            const session = await repository.getSession(d.devEui);
            return {
              devEui: d.devEui,
              name: d.name,
              applicationId: d.applicationId,
              region: d.regionId,
              activation: d.activation.mode,
              codec: d.codec.kind === 'js' ? d.codec.path : d.codec.kind,
              plotId: d.plotId,
              devAddr: session?.devAddr,
              fCntUp: session?.fCntUp,
              joinedAt: session?.joinedAt,
            };
          }),
        );
      });
      if (flags.json) return printJson(rows);
      process.stdout.write(
        `${renderTable(
          ['devEui', 'name', 'mode', 'region', 'codec', 'plot', 'devAddr', 'fCntUp'],
          rows.map((r) => [r.devEui, r.name, r.activation, r.region, r.codec, r.plotId, r.devAddr, r.fCntUp]),
        )}\n`,
      );
    });

  device
    .command('remove')
    .description('remove a device with its session and nonces')
    .requiredOption('--data-dir <dir>', 'data directory')
    .requiredOption('--dev-eui <hex16>', 'DevEUI')
    .action(async (flags: { dataDir: string; devEui: string }) => {
      await withGatewayStore(flags.dataDir, (_db, repository) => removeDevice(repository, flags.devEui));
      process.stdout.write(`device ${flags.devEui.toLowerCase()} removed\n`);
    });
};
