/**
 * ChirpStack's published integration schema, for strict proto3 JSON checks.
 *
 * The `@chirpstack/chirpstack-api` npm package (a dev dependency) ships the
 * code protoc generated from ChirpStack's `.proto` files (google-protobuf
 * JSPB), not the `.proto` files themselves. Each generated message has a
 * `deserializeBinaryFromReader` whose body lists every field: its number, its
 * wire reader (`readUint32`, `readEnum` with the enum's name, `readMessage`
 * with the message class) and its setter (`setFCnt`, `addRxInfo`,
 * `getTagsMap`). This module reads those bodies at test time and rebuilds the
 * descriptors of the `common`, `gw` and `integration` packages, so that
 * `@bufbuild/protobuf`'s `fromJson` can parse events with the proto3 JSON
 * mapping's default rules: an unknown field, a wrong type or a bad enum name
 * is an error, as in ChirpStack's Python and Go clients.
 */
import { createRequire } from 'node:module';
import {
  create,
  createFileRegistry,
  type DescMessage,
  type FileRegistry,
  fromJson,
  type JsonValue,
} from '@bufbuild/protobuf';
import {
  type DescriptorProto,
  DescriptorProtoSchema,
  type EnumDescriptorProto,
  EnumDescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldDescriptorProtoSchema,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  file_google_protobuf_duration,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  MessageOptionsSchema,
  OneofDescriptorProtoSchema,
} from '@bufbuild/protobuf/wkt';

const require = createRequire(import.meta.url);

/** The ChirpStack release whose schema the events are checked against. */
export const CHIRPSTACK_API_VERSION: string = (
  require('@chirpstack/chirpstack-api/package.json') as { version: string }
).version;

/** A generated JSPB message class, as far as we read it. */
interface JspbClass {
  deserializeBinaryFromReader: (...args: unknown[]) => unknown;
  oneofGroups_?: number[][];
}
type JspbModule = Record<string, unknown>;

const PACKAGES = ['common', 'gw', 'integration'] as const;
type PackageName = (typeof PACKAGES)[number];

const modules: Record<PackageName, JspbModule> = {
  common: require('@chirpstack/chirpstack-api/common/common_pb.js') as JspbModule,
  gw: require('@chirpstack/chirpstack-api/gw/gw_pb.js') as JspbModule,
  integration: require('@chirpstack/chirpstack-api/integration/integration_pb.js') as JspbModule,
};

/** The module-local names the generated code uses for each package. */
const ALIASES: Record<string, string> = {
  'proto.common': 'common',
  common_common_pb: 'common',
  'proto.gw': 'gw',
  gw_gw_pb: 'gw',
  'proto.integration': 'integration',
  google_protobuf_timestamp_pb: 'google.protobuf',
  google_protobuf_duration_pb: 'google.protobuf',
  google_protobuf_struct_pb: 'google.protobuf',
};

const SCALARS: Record<string, FieldDescriptorProto_Type> = {
  String: FieldDescriptorProto_Type.STRING,
  Bool: FieldDescriptorProto_Type.BOOL,
  Bytes: FieldDescriptorProto_Type.BYTES,
  Uint32: FieldDescriptorProto_Type.UINT32,
  Int32: FieldDescriptorProto_Type.INT32,
  Sint32: FieldDescriptorProto_Type.SINT32,
  Fixed32: FieldDescriptorProto_Type.FIXED32,
  Sfixed32: FieldDescriptorProto_Type.SFIXED32,
  Uint64: FieldDescriptorProto_Type.UINT64,
  Uint64String: FieldDescriptorProto_Type.UINT64,
  Int64: FieldDescriptorProto_Type.INT64,
  Int64String: FieldDescriptorProto_Type.INT64,
  Sint64: FieldDescriptorProto_Type.SINT64,
  Fixed64: FieldDescriptorProto_Type.FIXED64,
  Sfixed64: FieldDescriptorProto_Type.SFIXED64,
  Float: FieldDescriptorProto_Type.FLOAT,
  Double: FieldDescriptorProto_Type.DOUBLE,
};

/** `gw_gw_pb.UplinkRxInfo` → `.gw.UplinkRxInfo`. */
function qualified(reference: string): string {
  for (const [alias, pkg] of Object.entries(ALIASES)) {
    if (reference.startsWith(`${alias}.`)) return `.${pkg}.${reference.slice(alias.length + 1)}`;
  }
  throw new Error(`chirpstack schema: unknown type reference ${reference}`);
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
const snake = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

interface FieldSpec {
  number: number;
  jsonName: string;
  type: FieldDescriptorProto_Type;
  typeName?: string;
  repeated: boolean;
  /** map<string, V>: value type (and value type name for messages/enums). */
  map?: { key: FieldDescriptorProto_Type; value: FieldDescriptorProto_Type; valueTypeName?: string };
}

const READER = /jspb\.BinaryReader\.prototype\.read([A-Za-z0-9]+)/g;

/** One `case N:` block of `deserializeBinaryFromReader`, read back into a field. */
function fieldOf(number: number, body: string): FieldSpec {
  const setter = /msg\.(set|add|get)([A-Za-z0-9]+?)(Map)?\(/.exec(body);
  if (!setter) throw new Error(`chirpstack schema: field ${number} has no setter`);
  const jsonName = lowerFirst(setter[2]!);
  if (setter[3] === 'Map') {
    const readers = [...body.matchAll(READER)].map((m) => m[1]!);
    const valueMessage =
      /jspb\.BinaryReader\.prototype\.readMessage,\s*([A-Za-z0-9_.]+)\.deserializeBinaryFromReader/.exec(
        body,
      );
    const key = SCALARS[readers[0]!];
    const valueReader = readers[1]!;
    if (key === undefined) throw new Error(`chirpstack schema: map key reader ${readers[0]}`);
    const map: NonNullable<FieldSpec['map']> = valueMessage
      ? { key, value: FieldDescriptorProto_Type.MESSAGE, valueTypeName: qualified(valueMessage[1]!) }
      : { key, value: SCALARS[valueReader] ?? FieldDescriptorProto_Type.STRING };
    return { number, jsonName, type: FieldDescriptorProto_Type.MESSAGE, repeated: true, map };
  }
  const repeated = setter[1] === 'add';
  const message = /reader\.readMessage\(value,\s*([A-Za-z0-9_.]+)\.deserializeBinaryFromReader/.exec(body);
  if (message) {
    return {
      number,
      jsonName,
      type: FieldDescriptorProto_Type.MESSAGE,
      typeName: qualified(message[1]!),
      repeated,
    };
  }
  if (/reader\.(readEnum|readPackedEnum)\(/.test(body)) {
    const enumName = /@type \{!(?:Array<!)?([A-Za-z0-9_.]+)>?\}/.exec(body);
    if (!enumName) throw new Error(`chirpstack schema: enum field ${number} without a type`);
    return {
      number,
      jsonName,
      type: FieldDescriptorProto_Type.ENUM,
      typeName: qualified(enumName[1]!),
      repeated,
    };
  }
  const scalar = /reader\.read(?:Packed)?([A-Za-z0-9]+)\(/.exec(body);
  const type = scalar ? SCALARS[scalar[1]!] : undefined;
  if (type === undefined) throw new Error(`chirpstack schema: field ${number} reader not understood`);
  return { number, jsonName, type, repeated };
}

function fieldsOf(cls: JspbClass): FieldSpec[] {
  const source = cls.deserializeBinaryFromReader.toString();
  const cases = [...source.matchAll(/case (\d+):([\s\S]*?)break;/g)];
  return cases.map((c) => fieldOf(Number(c[1]), c[2]!));
}

function isMessageClass(value: unknown): value is JspbClass {
  return typeof value === 'function' && 'deserializeBinaryFromReader' in value;
}

function isEnum(value: unknown): value is Record<string, number> {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).length > 0 &&
    Object.values(value).every((v) => typeof v === 'number')
  );
}

function enumDescriptor(name: string, values: Record<string, number>): EnumDescriptorProto {
  return create(EnumDescriptorProtoSchema, {
    name,
    value: Object.entries(values).map(([valueName, number]) => ({ name: valueName, number })),
  });
}

function messageDescriptor(pkg: PackageName, name: string, cls: JspbClass): DescriptorProto {
  const message = create(DescriptorProtoSchema, { name });
  const oneofOf = new Map<number, number>();
  (cls.oneofGroups_ ?? []).forEach((group, index) => {
    message.oneofDecl.push(create(OneofDescriptorProtoSchema, { name: `oneof_${index}` }));
    for (const n of group) oneofOf.set(n, index);
  });
  for (const f of fieldsOf(cls)) {
    const field = create(FieldDescriptorProtoSchema, {
      name: snake(f.jsonName),
      jsonName: f.jsonName,
      number: f.number,
      label: f.repeated ? FieldDescriptorProto_Label.REPEATED : FieldDescriptorProto_Label.OPTIONAL,
      type: f.type,
    });
    if (oneofOf.has(f.number)) field.oneofIndex = oneofOf.get(f.number)!;
    if (f.map) {
      const entryName = `${f.jsonName.charAt(0).toUpperCase()}${f.jsonName.slice(1)}Entry`;
      message.nestedType.push(
        create(DescriptorProtoSchema, {
          name: entryName,
          options: create(MessageOptionsSchema, { mapEntry: true }),
          field: [
            {
              name: 'key',
              jsonName: 'key',
              number: 1,
              label: FieldDescriptorProto_Label.OPTIONAL,
              type: f.map.key,
            },
            {
              name: 'value',
              jsonName: 'value',
              number: 2,
              label: FieldDescriptorProto_Label.OPTIONAL,
              type: f.map.value,
              ...(f.map.valueTypeName ? { typeName: f.map.valueTypeName } : {}),
            },
          ],
        }),
      );
      field.typeName = `.${pkg}.${name}.${entryName}`;
    } else if (f.typeName) {
      field.typeName = f.typeName;
    }
    message.field.push(field);
  }
  // Enums declared inside this message (proto.gw.ConnState.State).
  for (const [key, value] of Object.entries(cls)) {
    if (/^[A-Z]/.test(key) && isEnum(value)) message.enumType.push(enumDescriptor(key, value));
  }
  return message;
}

function fileDescriptor(pkg: PackageName): FileDescriptorProto {
  const file = create(FileDescriptorProtoSchema, {
    name: `${pkg}/${pkg}.proto`,
    package: pkg,
    syntax: 'proto3',
    dependency: [
      'google/protobuf/timestamp.proto',
      'google/protobuf/duration.proto',
      'google/protobuf/struct.proto',
      ...PACKAGES.slice(0, PACKAGES.indexOf(pkg)).map((p) => `${p}/${p}.proto`),
    ],
  });
  for (const [name, value] of Object.entries(modules[pkg])) {
    if (isMessageClass(value)) file.messageType.push(messageDescriptor(pkg, name, value));
    else if (isEnum(value)) file.enumType.push(enumDescriptor(name, value));
  }
  return file;
}

function buildRegistry(): FileRegistry {
  const wkt = {
    'google/protobuf/timestamp.proto': file_google_protobuf_timestamp,
    'google/protobuf/duration.proto': file_google_protobuf_duration,
    'google/protobuf/struct.proto': file_google_protobuf_struct,
  };
  const built = new Map<string, ReturnType<FileRegistry['getFile']>>();
  let registry: FileRegistry | undefined;
  for (const pkg of PACKAGES) {
    registry = createFileRegistry(fileDescriptor(pkg), (name) =>
      name in wkt ? wkt[name as keyof typeof wkt] : built.get(name),
    );
    built.set(`${pkg}/${pkg}.proto`, registry.getFile(`${pkg}/${pkg}.proto`));
  }
  return registry!;
}

const registry = buildRegistry();

/** Messages of integration.proto that Maverick publishes, by event type. */
export const EVENT_MESSAGES = {
  up: 'integration.UplinkEvent',
  join: 'integration.JoinEvent',
  ack: 'integration.AckEvent',
  txack: 'integration.TxAckEvent',
  status: 'integration.StatusEvent',
  log: 'integration.LogEvent',
  location: 'integration.LocationEvent',
  command: 'integration.DownlinkCommand',
} as const;

export function messageSchema(typeName: string): DescMessage {
  const schema = registry.getMessage(typeName);
  if (!schema) throw new Error(`chirpstack schema: no message ${typeName}`);
  return schema;
}

/**
 * Parses `json` as `typeName` under strict proto3 JSON rules (unknown fields
 * rejected). Throws protobuf-es's error, which names the offending field.
 */
export function parseStrict(typeName: string, json: unknown): void {
  fromJson(messageSchema(typeName), json as JsonValue, { ignoreUnknownFields: false });
}

/** The JSON field names of a message, for the tests' own assertions. */
export function fieldNames(typeName: string): string[] {
  return messageSchema(typeName).fields.map((f) => f.jsonName);
}
