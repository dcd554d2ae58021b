/**
 * Fuzzing decodeDatagram (house rule: every parser of untrusted bytes). Over 100k inputs in three
 * families — random bytes, mutated valid datagrams, structurally valid headers with random JSON
 * fields — and for each: it returns a packet or throws a wire-range MaverickError, nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWireError } from '../errors.js';
import { decodeDatagram, PACKET_TYPE_NAMES } from './index.js';
import { sampleDatagrams } from './sample-datagrams.js';

const EUI = 'b827ebfffe000001';

function decodesOrThrowsWireError(bytes: Uint8Array): void {
  let packet: ReturnType<typeof decodeDatagram>;
  try {
    packet = decodeDatagram(bytes);
  } catch (err) {
    if (!isWireError(err)) throw err; // fast-check reports the input that made anything else escape
    return;
  }
  expect(PACKET_TYPE_NAMES).toContain(packet.type);
}

const validDatagrams = sampleDatagrams();

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'insert'; at: number; value: number }
  | { kind: 'delete'; at: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    text: fc.constantFrom(
      '-1',
      '1e400',
      'null',
      '"',
      '{',
      '}',
      '[]',
      '"\\u0000"',
      '4294967296',
      '0.0000001',
      'NaN',
      '""',
    ),
  }),
);

function mutate(input: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes = [...input];
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % bytes.length;
    if (m.kind === 'flip') bytes[at] = m.value;
    else if (m.kind === 'insert') bytes.splice(at, 0, m.value);
    else if (m.kind === 'delete') bytes.splice(at, 1);
    else if (m.kind === 'truncate') bytes = bytes.slice(0, at);
    else bytes.splice(at, 0, ...new TextEncoder().encode(m.text));
  }
  return new Uint8Array(bytes);
}

const rxpkKeys = [
  'time',
  'tmst',
  'tmms',
  'chan',
  'rfch',
  'freq',
  'stat',
  'modu',
  'datr',
  'codr',
  'rssi',
  'lsnr',
  'size',
  'data',
  'rsig',
];
const txpkKeys = [
  'imme',
  'tmst',
  'time',
  'tmms',
  'freq',
  'rfch',
  'powe',
  'modu',
  'datr',
  'codr',
  'fdev',
  'ipol',
  'prea',
  'size',
  'data',
  'ncrc',
];
const statKeys = ['time', 'lati', 'long', 'alti', 'rxnb', 'rxok', 'rxfw', 'ackr', 'dwnb', 'txnb'];
const fieldValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(1, 0, -1, 868.1, 4294967295, 'SF7BW125', 'LORA', 'FSK', '4/5', 'AQID', true),
);
const objectOf = (keys: string[]) =>
  fc.dictionary(fc.constantFrom(...keys), fieldValue, { maxKeys: keys.length });

describe('decodeDatagram under fuzzing', () => {
  it('random bytes (50k)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => decodesOrThrowsWireError(b)),
      {
        numRuns: 50_000,
      },
    );
  });

  it('random bytes behind a valid header of every type (20k)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2),
        fc.integer({ min: 0, max: 5 }),
        fc.uint8Array({ maxLength: 200 }),
        (version, id, tail) => decodesOrThrowsWireError(new Uint8Array([version, 0xab, 0xcd, id, ...tail])),
      ),
      { numRuns: 20_000 },
    );
  });

  it('mutated valid datagrams (30k)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...validDatagrams),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (d, ms) => decodesOrThrowsWireError(mutate(d, ms)),
      ),
      { numRuns: 30_000 },
    );
  });

  it('valid headers with random rxpk / stat / txpk / txpk_ack fields (10k)', () => {
    const head = (id: number, withEui: boolean) => [2, 1, 2, id, ...(withEui ? Buffer.from(EUI, 'hex') : [])];
    const text = (v: unknown) => [...new TextEncoder().encode(JSON.stringify(v))];
    fc.assert(
      fc.property(
        fc.oneof(
          fc
            .record(
              { rxpk: fc.array(objectOf(rxpkKeys), { maxLength: 4 }), stat: objectOf(statKeys) },
              { requiredKeys: [] },
            )
            .map((v) => new Uint8Array([...head(0, true), ...text(v)])),
          objectOf(txpkKeys).map((t) => new Uint8Array([...head(3, false), ...text({ txpk: t })])),
          fieldValue.map((e) => new Uint8Array([...head(5, true), ...text({ txpk_ack: { error: e } })])),
        ),
        (b) => decodesOrThrowsWireError(b),
      ),
      { numRuns: 10_000 },
    );
  });

  it('finishes on pathological JSON (deep nesting, huge arrays) with a typed error or a result', () => {
    const deep = `{"rxpk":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const wide = `{"rxpk":[${Array(200).fill('{"stat":1}').join(',')}]}`;
    for (const json of [deep, wide]) {
      decodesOrThrowsWireError(
        new Uint8Array([2, 0, 0, 0, ...Buffer.from(EUI, 'hex'), ...new TextEncoder().encode(json)]),
      );
    }
  });
});
