/** `maverick init`: prepares a data directory for a new gateway (config, secrets, key pair). */
import type { Command } from 'commander';
import type { RegisterCommand } from './index.js';

interface InitFlags {
  dataDir: string;
  region?: string;
  country?: string;
  gatewayId?: string;
  mqttUsername?: string;
  mqttPassword?: string;
  consolePassword?: string;
  regionalNodeKey?: string;
  force?: boolean;
}

export const registerInit: RegisterCommand = (program: Command) => {
  program
    .command('init')
    .description('create a data directory: commented config, MQTT password file, gateway key pair')
    .requiredOption('--data-dir <dir>', 'data directory to create (mode 0700)')
    .option(
      '--region <region>',
      'LoRaWAN region plan, any case: EU868, US915, AU915, AS923-1..4, IN865, KR920; US915/AU915 sub-band n as AU915-SBn (default: from --country, else EU868)',
    )
    .option(
      '--country <cc>',
      "ISO 3166 alpha-2 country: proposes its region plan from RP002-1.0.4's country table",
    )
    .option('--gateway-id <eui>', "gateway EUI, 16 hex characters (default: from this machine's MAC address)")
    .option('--mqtt-username <user>', 'user name for the local MQTT broker', 'maverick')
    .option(
      '--mqtt-password <password>',
      'password for the local broker (default: a random one, printed once)',
    )
    .option(
      '--console-password <password>',
      'admin password of the farm console (default: a random one, printed once)',
    )
    .option(
      '--regional-node-key <pem>',
      "the regional node's public key (its keys/regional-node.pub): acks must be signed with it",
    )
    .option('--force', 'rewrite the config and password of an existing setup (the gateway key is kept)')
    .action(async (flags: InitFlags) => {
      const { initSetup } = await import('../../gateway/config/setup.js');
      const { regionForCountry } = await import('../../gateway/config/country.js');
      const out = process.stdout;
      const chosen = flags.country === undefined ? undefined : regionForCountry(flags.country, flags.region);
      const result = await initSetup({ ...flags, region: flags.region ?? chosen?.region });
      if (chosen) out.write(`${chosen.note}\n`);
      out.write(`Maverick data directory ready: ${result.dataDir}\n`);
      out.write(`  config:      ${result.configFile} (every key explained inside)\n`);
      out.write(`  gateway id:  ${result.config.gateway.id}, region ${result.config.gateway.region}\n`);
      out.write(
        `  gateway key: ${result.keyId} ${result.keyCreated ? '(new; secret key mode 0600)' : '(existing key kept)'}\n`,
      );
      out.write(
        `  MQTT user:   ${result.config.mqtt.username}, password in ${result.passwordFile} (mode 0600)\n`,
      );
      out.write(`  console:     admin password hash in ${result.consolePasswordFile} (mode 0600)\n`);
      if (result.generatedPassword !== undefined) {
        out.write(
          `\nMQTT password (generated; shown only this once, note it for your farm apps):\n  ${result.generatedPassword}\n`,
        );
      }
      if (result.generatedConsolePassword !== undefined) {
        out.write(
          `\nConsole password (generated; shown only this once, for the farm console page):\n  ${result.generatedConsolePassword}\n`,
        );
      }
      out.write(
        `\nNext: maverick doctor --data-dir ${result.dataDir}\n      maverick run --data-dir ${result.dataDir}\n`,
      );
    });
};
