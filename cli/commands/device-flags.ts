/** The flags of `maverick device add`, turned into the registry's terms (also used by `device import`). */
import type { Activation, CodecRef } from '../../kernel/ns/types.js';
import { ErrorCode, MaverickError } from '../../proto/errors.js';

export interface AddFlags {
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

export function codecFromFlag(codec: string | undefined): CodecRef {
  if (codec === undefined || codec === 'none') return { kind: 'none' };
  if (codec === 'cayenne-lpp') return { kind: 'cayenne-lpp' };
  if (codec.endsWith('.js')) return { kind: 'js', path: codec };
  throw new MaverickError(
    ErrorCode.CliUsage,
    `--codec ${codec}: use cayenne-lpp, none, or a path to a .js codec file`,
  );
}
