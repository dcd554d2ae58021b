/**
 * `maverick device import FILE`: many devices at once from CSV (a header row
 * with the flag names of `device add`: dev-eui, name, application, region,
 * join-eui, app-key, dev-addr, nwk-s-key, app-s-key, codec, plot,
 * skip-fcnt-check) or JSON (an array of objects with the same keys, or their
 * camelCase forms). All or nothing: every row is checked first, against the
 * file and the registry, and every bad row is named; only a clean file is
 * registered, in one store session.
 */
import { readFileSync } from 'node:fs';
import { type AddDeviceInput, registerDevice, validateDevice } from '../../kernel/ns/registry.js';
import type { NetworkRepository } from '../../kernel/ns/repository.js';
import type { Device, RegionId } from '../../kernel/ns/types.js';
import { describeError, ErrorCode, MaverickError } from '../../proto/errors.js';
import { parseCsv } from '../format/csv.js';
import { type AddFlags, activationFromFlags, codecFromFlag } from './device-flags.js';

/** The columns, as `device add` flags (kebab-case). */
export const IMPORT_COLUMNS = [
  'dev-eui',
  'name',
  'application',
  'region',
  'join-eui',
  'app-key',
  'dev-addr',
  'nwk-s-key',
  'app-s-key',
  'codec',
  'plot',
  'skip-fcnt-check',
] as const;
type Column = (typeof IMPORT_COLUMNS)[number];

export interface ImportRow {
  /** "line 3" (CSV) or "item 2" (JSON), for messages. */
  where: string;
  values: Partial<Record<Column, string>>;
}

const camel = (c: string): string => c.replace(/-([a-z])/g, (_m, ch: string) => ch.toUpperCase());
const COLUMN_BY_KEY = new Map<string, Column>(
  IMPORT_COLUMNS.flatMap((c) => [
    [c, c],
    [camel(c).toLowerCase(), c],
  ]),
);

function columnOf(key: string, where: string): Column {
  const column =
    COLUMN_BY_KEY.get(key.trim().toLowerCase()) ?? COLUMN_BY_KEY.get(camel(key.trim()).toLowerCase());
  if (!column) {
    throw new MaverickError(ErrorCode.CliUsage, `${where}: unknown column "${key}"`, {
      hint: `use the columns ${IMPORT_COLUMNS.join(', ')}`,
    });
  }
  return column;
}

/** Reads FILE as JSON (when it starts with "[") or CSV with a header row. */
export function readImportFile(path: string): ImportRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MaverickError(ErrorCode.CliUsage, `cannot read ${path}: ${describeError(err)}`);
  }
  text = text.replace(/^\uFEFF/, '');
  if (text.trimStart().startsWith('[')) return jsonRows(text, path);
  const [header, ...records] = parseCsv(text);
  if (!header) throw new MaverickError(ErrorCode.CliUsage, `${path} is empty`);
  const columns = header.fields.map((f) => columnOf(f, `${path} line ${header.line}`));
  return records.map((r) => {
    const values: ImportRow['values'] = {};
    if (r.fields.length > columns.length) {
      throw new MaverickError(
        ErrorCode.CliUsage,
        `${path} line ${r.line}: ${r.fields.length} fields, the header has ${columns.length}`,
      );
    }
    r.fields.forEach((f, i) => {
      if (f.trim() !== '') values[columns[i] as Column] = f.trim();
    });
    return { where: `line ${r.line}`, values };
  });
}

function jsonRows(text: string, path: string): ImportRow[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new MaverickError(ErrorCode.CliUsage, `${path} is not valid JSON: ${describeError(err)}`);
  }
  if (!Array.isArray(parsed))
    throw new MaverickError(ErrorCode.CliUsage, `${path}: expected a JSON array of devices`);
  return parsed.map((item, i) => {
    const where = `item ${i + 1}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new MaverickError(ErrorCode.CliUsage, `${path} ${where}: expected an object`);
    }
    const values: ImportRow['values'] = {};
    for (const [k, v] of Object.entries(item)) {
      if (v === null || v === undefined || v === '') continue;
      values[columnOf(k, `${path} ${where}`)] = String(v);
    }
    return { where, values };
  });
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|y)$/i.test(value);
}

/** One row as `device add` would take it from its flags. */
export function rowInput(row: ImportRow, defaultRegion: string): AddDeviceInput {
  const v = row.values;
  if (!v['dev-eui']) throw new MaverickError(ErrorCode.CliUsage, 'dev-eui is missing');
  const flags: AddFlags = {
    dataDir: '',
    devEui: v['dev-eui'],
    application: v.application ?? 'farm',
    ...(v['join-eui'] ? { joinEui: v['join-eui'] } : {}),
    ...(v['app-key'] ? { appKey: v['app-key'] } : {}),
    ...(v['dev-addr'] ? { devAddr: v['dev-addr'] } : {}),
    ...(v['nwk-s-key'] ? { nwkSKey: v['nwk-s-key'] } : {}),
    ...(v['app-s-key'] ? { appSKey: v['app-s-key'] } : {}),
  };
  return {
    devEui: v['dev-eui'],
    name: v.name ?? v['dev-eui'],
    applicationId: flags.application,
    regionId: (v.region ?? defaultRegion) as RegionId,
    codec: codecFromFlag(v.codec),
    activation: activationFromFlags(flags),
    skipFCntCheck: truthy(v['skip-fcnt-check']),
    ...(v.plot ? { plotId: v.plot } : {}),
  };
}

export interface ImportCheck {
  repository: NetworkRepository;
  defaultRegion: string;
  force: boolean;
  plotExists: (id: string) => boolean;
}

/** Every problem of every row (empty when the file can be registered as a whole). */
export async function checkImport(
  rows: ImportRow[],
  check: ImportCheck,
): Promise<{ inputs: AddDeviceInput[]; problems: string[] }> {
  const problems: string[] = [];
  const inputs: AddDeviceInput[] = [];
  const seenEui = new Map<string, string>();
  const seenAbp = new Map<string, string>();
  for (const row of rows) {
    let device: Device;
    let input: AddDeviceInput;
    try {
      input = rowInput(row, check.defaultRegion);
      device = validateDevice(input);
    } catch (err) {
      problems.push(`${row.where}: ${describeError(err)}`);
      continue;
    }
    const rowProblems: string[] = [];
    const earlier = seenEui.get(device.devEui);
    if (earlier) rowProblems.push(`dev-eui ${device.devEui} is also on ${earlier}`);
    seenEui.set(device.devEui, row.where);
    if (!check.force && (await check.repository.getDevice(device.devEui))) {
      rowProblems.push(`dev-eui ${device.devEui} is already registered (import with --force to replace it)`);
    }
    if (device.plotId && !check.plotExists(device.plotId)) {
      rowProblems.push(`plot ${device.plotId} does not exist (see \`maverick plot list\`)`);
    }
    if (device.activation.mode === 'abp') {
      const key = `${device.activation.devAddr}/${device.activation.nwkSKey}`;
      const other = seenAbp.get(key);
      if (other)
        rowProblems.push(`dev-addr ${device.activation.devAddr} with the same NwkSKey is also on ${other}`);
      seenAbp.set(key, row.where);
      const clash = (await check.repository.devicesByDevAddr(device.activation.devAddr)).find(
        (c) =>
          c.device.devEui !== device.devEui &&
          c.session.nwkSKey === (device.activation as { nwkSKey: string }).nwkSKey,
      );
      if (clash) {
        rowProblems.push(
          `dev-addr ${device.activation.devAddr} with this NwkSKey is already used by device ${clash.device.devEui}`,
        );
      }
    }
    for (const p of rowProblems) problems.push(`${row.where}: ${p}`);
    if (rowProblems.length === 0) inputs.push(input);
  }
  return { inputs, problems };
}

/**
 * Registers checked inputs; when the store fails part way, the devices this
 * import added are removed again, so the registry is as it was.
 */
export async function registerAll(
  repository: NetworkRepository,
  inputs: AddDeviceInput[],
  force: boolean,
): Promise<number> {
  const added: string[] = [];
  try {
    for (const input of inputs) {
      const { device, changes } = await registerDevice(repository, input, { force });
      if (!changes) added.push(device.devEui);
    }
  } catch (err) {
    for (const devEui of added) await repository.removeDevice(devEui).catch(() => undefined);
    throw new MaverickError(ErrorCode.CliUsage, `import stopped and was undone: ${describeError(err)}`, {
      cause: err,
    });
  }
  return inputs.length;
}
