/**
 * The regional node's config file (TOML), e.g. /etc/maverick/regional.toml:
 *
 *   [store]
 *   engine = "postgres"                  # or "embedded" (RxDB/SQLite under data_dir)
 *   url = "postgres://maverick@db.example:5432/maverick"   # no password here
 *   password_file = "pg-password"        # mode 0600, relative to this file
 *   pool_size = 32                       # default: intake.in_flight (one connection per item in flight)
 *   data_dir = "/var/lib/maverick-regional"                # embedded only
 *
 *   [broker]
 *   url = "mqtt://127.0.0.1:1883"        # absent: an embedded broker on embedded_host:embedded_port
 *   username = "maverick-regional"
 *   password_file = "broker-password"    # mode 0600
 *   gateway_password_file = "broker/passwd"  # embedded broker: gateways confined to their own topics
 *                                        # (the file `regional gateway add --broker-dir broker` writes)
 *
 *   [intake]
 *   shared_group = "regional"            # several workers share the intake
 *   worker_id = "worker-1"               # stable and distinct per worker (systemd: %i)
 *   connections = 4                      # MQTT sessions per worker
 *   in_flight = 32                       # items a worker settles at once (default 32)
 *
 *   [directip]                           # Iridium SBD DirectIP MO intake (no broker on the way)
 *   port = 10800
 *   host = "0.0.0.0"                     # beyond loopback only with allow_from
 *   allow_from = ["12.47.179.11"]        # the Iridium gateway's delivery addresses
 *   confirm = true                       # as provisioned with Iridium (MO confirmation)
 *   mt_host = "12.47.179.12"             # Iridium's DirectIP MT endpoint: status replies to the modems
 *   mt_port = 10800
 *   [directip.imeis]                     # each modem's IMEI → its gateway id
 *   "300234010753370" = "farm-17"
 *
 * Secrets live only in their 0600 files: a URL carrying a password is refused.
 * Every problem names its field. Unknown keys are errors (a typo is not ignored).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { readSecretFile } from '../kernel/keys/secret-file.js';
import { ErrorCode, MaverickError } from '../proto/errors.js';
import { isLoopbackHost } from '../proto/net.js';
import type { RegionalServiceOptions } from './serve.js';

const idPattern = /^[A-Za-z0-9._-]{1,64}$/;

const schema = z
  .object({
    store: z
      .object({
        engine: z.enum(['embedded', 'postgres']).default('embedded'),
        data_dir: z.string().min(1).optional(),
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
          .refine((u) => !/^[^:]+:\/\/[^/@]*:[^/@]*@/.test(u), 'must not carry a password: use password_file')
          .optional(),
        password_file: z.string().min(1).optional(),
        pool_size: z.number().int().min(1).max(200).optional(),
      })
      .strict()
      .default({ engine: 'embedded' }),
    broker: z
      .object({
        url: z
          .string()
          .regex(/^mqtts?:\/\//, 'must be an mqtt:// or mqtts:// URL')
          .refine((u) => !/^[^:]+:\/\/[^/@]*:[^/@]*@/.test(u), 'must not carry a password: use password_file')
          .optional(),
        username: z.string().min(1).optional(),
        password_file: z.string().min(1).optional(),
        embedded_host: z.string().min(1).default('127.0.0.1'),
        embedded_port: z.number().int().min(0).max(65535).default(1884),
        gateway_password_file: z.string().min(1).optional(),
      })
      .strict()
      .default({ embedded_host: '127.0.0.1', embedded_port: 1884 }),
    intake: z
      .object({
        shared_group: z
          .string()
          .regex(idPattern, 'use 1-64 letters, digits, dot, underscore or dash')
          .optional(),
        worker_id: z
          .string()
          .regex(idPattern, 'use 1-64 letters, digits, dot, underscore or dash')
          .optional(),
        connections: z.number().int().min(1).max(64).default(1),
        in_flight: z.number().int().min(1).max(1024).default(32),
      })
      .strict()
      .default({ connections: 1, in_flight: 32 }),
    directip: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(10800),
        allow_from: z.array(z.string().min(1)).default([]),
        confirm: z.boolean().default(true),
        mt_host: z.string().min(1).optional(),
        mt_port: z.number().int().min(1).max(65535).default(10800),
        imeis: z
          .record(
            z.string(),
            z.string().regex(idPattern, 'use 1-64 letters, digits, dot, underscore or dash'),
          )
          .superRefine((imeis, ctx) => {
            for (const imei of Object.keys(imeis))
              if (!/^[0-9]{15}$/.test(imei))
                ctx.addIssue({ code: 'custom', path: [imei], message: 'an IMEI is 15 digits' });
          })
          .default({}),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.store.engine === 'postgres' && !c.store.url)
      ctx.addIssue({
        code: 'custom',
        path: ['store', 'url'],
        message: 'is required when engine = "postgres"',
      });
    if (c.store.engine === 'embedded' && !c.store.data_dir)
      ctx.addIssue({
        code: 'custom',
        path: ['store', 'data_dir'],
        message: 'is required when engine = "embedded"',
      });
    if ((c.broker.username === undefined) !== (c.broker.password_file === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['broker'],
        message: 'give both username and password_file, or neither',
      });
    if (c.directip && !isLoopbackHost(c.directip.host) && c.directip.allow_from.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['directip', 'allow_from'],
        message: `is required when host = "${c.directip.host}": DirectIP has no authentication`,
      });
    if (c.broker.url && c.broker.gateway_password_file)
      ctx.addIssue({
        code: 'custom',
        path: ['broker', 'gateway_password_file'],
        message: 'is for the embedded broker; an external mosquitto reads the passwd and acl files itself',
      });
    if (c.intake.shared_group && !c.broker.url)
      ctx.addIssue({
        code: 'custom',
        path: ['broker', 'url'],
        message: 'is required with shared_group: workers share an external broker, not an embedded one',
      });
  });

export type RegionalFileConfig = z.infer<typeof schema>;

/** Parses and validates config text; `source` names the file in errors. */
export function parseRegionalConfig(text: string, source: string): RegionalFileConfig {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) {
      throw new MaverickError(
        ErrorCode.ConfigParse,
        `${source}:${err.line}:${err.column}: TOML syntax error: ${err.message.split('\n')[0]}`,
        { hint: `fix line ${err.line} of ${source}` },
      );
    }
    throw new MaverickError(ErrorCode.ConfigParse, `${source}: cannot parse TOML: ${String(err)}`, {
      cause: err,
    });
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.map(String).join('.') || '(top level)';
    const keys = issue.code === 'unrecognized_keys' ? `: ${issue.keys.join(', ')}` : '';
    return `  - ${field}: ${issue.message}${keys}`;
  });
  throw new MaverickError(
    ErrorCode.ConfigInvalid,
    `invalid regional config in ${source}:\n${problems.join('\n')}`,
    {
      hint: `edit ${source}; \`maverick regional serve --help\` shows an example`,
    },
  );
}

/** Reads the file and its secret files; returns what `startRegionalService` takes (minus the logger). */
export function loadRegionalConfig(
  path: string,
  overrides: { workerId?: string } = {},
): Omit<RegionalServiceOptions, 'logger'> {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MaverickError(
      ErrorCode.ConfigMissing,
      `cannot read the regional config ${file}: ${(err as Error).message}`,
      {
        hint: 'pass --config with the path of the regional node TOML file',
        cause: err,
      },
    );
  }
  const c = parseRegionalConfig(text, file);
  const near = (p: string) => (isAbsolute(p) ? p : join(dirname(file), p));
  const secret = (p: string) => readSecretFile(near(p), `write the secret into ${near(p)} with mode 0600`);
  const workerId = overrides.workerId ?? c.intake.worker_id;
  if (c.intake.shared_group && !workerId) {
    throw new MaverickError(
      ErrorCode.ConfigInvalid,
      `invalid regional config in ${file}:\n  - intake.worker_id: is required with shared_group (each worker needs its own stable MQTT session)`,
      { hint: 'set intake.worker_id, or pass --worker-id (systemd template units pass %i)' },
    );
  }
  return {
    dataDir: c.store.data_dir ? near(c.store.data_dir) : dirname(file),
    ...(c.store.engine === 'postgres'
      ? {
          postgres: {
            url: c.store.url as string,
            poolSize: c.store.pool_size ?? c.intake.in_flight,
            ...(c.store.password_file ? { password: secret(c.store.password_file) } : {}),
          },
        }
      : {}),
    ...(c.broker.url
      ? { brokerUrl: c.broker.url }
      : {
          embedded: {
            host: c.broker.embedded_host,
            port: c.broker.embedded_port,
            ...(c.broker.gateway_password_file
              ? { gatewayPasswordFile: near(c.broker.gateway_password_file) }
              : {}),
          },
        }),
    ...(c.broker.username && c.broker.password_file
      ? { credentials: { username: c.broker.username, password: secret(c.broker.password_file) } }
      : {}),
    ...(c.intake.shared_group ? { sharedGroup: c.intake.shared_group } : {}),
    ...(workerId ? { clientId: `maverick-regional-${workerId}` } : {}),
    connections: c.intake.connections,
    ...(c.directip
      ? {
          directip: {
            host: c.directip.host,
            port: c.directip.port,
            allowFrom: c.directip.allow_from,
            confirm: c.directip.confirm,
            imeis: c.directip.imeis,
            ...(c.directip.mt_host ? { mt: { host: c.directip.mt_host, port: c.directip.mt_port } } : {}),
          },
        }
      : {}),
    inFlight: c.intake.in_flight,
  };
}
