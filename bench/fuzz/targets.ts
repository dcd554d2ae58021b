/**
 * Every parser of untrusted bytes, as a fuzz target: where its input comes
 * from on the wire, valid examples to mutate, and the call. A call may return
 * anything or throw a MaverickError (the documented way each parser refuses
 * input); any other throw is a crash. Streaming and stateful parsers
 * (serial frames, the fragment reassembler) are driven the way the runtime
 * drives them.
 */

import { parseConfigText } from '../../gateway/config/load.js';
import { parseRxP2pEvent } from '../../gateway/radio/single-channel-at.js';
import { keyIdOf, publicKeyOf, randomSecretKey } from '../../proto/bundle/ed25519.js';
import { isMaverickError, MaverickError } from '../../proto/errors.js';
import { decodeMoMessage, encodeMoMessage } from '../../proto/link/directip.js';
import { decodeMtConfirmation, decodeMtMessage, encodeMtConfirmation } from '../../proto/link/directip-mt.js';
import { decodeFragment, encodeFragment, splitItem } from '../../proto/link/fragment.js';
import { parseCsq, parseSbdix, parseSbdrbFrame, parseSbdwbResult } from '../../proto/link/sbd-at.js';
import { signAck, verifyAck } from '../../proto/link/signed-ack.js';
import { decodeStatusRecords, encodeStatusRecords } from '../../proto/link/status.js';
import { decodeJoinAccept, encodeJoinAccept, encodeJoinRequest } from '../../proto/lorawan/join.js';
import { parseMacCommands } from '../../proto/lorawan/mac.js';
import { decodePhy } from '../../proto/lorawan/phy.js';
import { parseDownlinkCommand } from '../../proto/mqtt/command.js';
import { decodeDatagram } from '../../proto/semtech-udp/index.js';
import { sampleDatagrams } from '../../proto/semtech-udp/sample-datagrams.js';
import { encodeMessage } from '../../proto/serial/codec.js';
import { SerialFrameDecoder } from '../../proto/serial/frame-decoder.js';
import { sampleMessages } from '../../proto/serial/sample-messages.js';
import { Reassembler } from '../../regional/transport/reassembly.js';
import { evidenceTargets } from './evidence-targets.js';
import type { InputShape } from './inputs.js';

export interface FuzzTarget extends InputShape {
  name: string;
  /** What it parses, for the table. */
  about: string;
  call(input: Uint8Array): unknown;
}

const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const utf8 = new TextDecoder('utf-8');
const asText = (bytes: Uint8Array) => utf8.decode(bytes);

const JSON_TOKENS = [
  '{',
  '}',
  '[',
  ']',
  '"',
  ':',
  ',',
  'null',
  'true',
  '-1e999',
  '1e309',
  '"\\u0000"',
  '0.5',
  '99999999999999999999',
  '{"a":',
];

const appKey = new Uint8Array(16).fill(7);
const phySeeds = [
  encodeJoinRequest({ joinEui: '70b3d57ed0000000', devEui: '0004a30b001c0530', devNonce: 0x1234 }, appKey),
  // Unconfirmed up: DevAddr, FCtrl with 2 FOpts bytes, FCnt, FOpts, FPort, payload, MIC.
  Uint8Array.from([0x40, 4, 3, 2, 1, 0x82, 1, 0, 0x02, 0x03, 10, 1, 2, 3, 0xde, 0xad, 0xbe, 0xef]),
  Uint8Array.from([0xa0, 4, 3, 2, 1, 0x20, 5, 0, 0, 0x06, 0xff, 0, 0, 0, 0]),
  Uint8Array.from([0x80, 4, 3, 2, 1, 0, 9, 0, 1, 0xaa, 1, 2, 3, 4]),
];
const joinAccepts = [
  encodeJoinAccept(
    { appNonce: 1, netId: '000013', devAddr: '26011bda', rx1DrOffset: 0, rx2DataRate: 0, rxDelay: 1 },
    appKey,
  ),
  encodeJoinAccept(
    {
      appNonce: 2,
      netId: '000013',
      devAddr: '26011bda',
      rx1DrOffset: 1,
      rx2DataRate: 3,
      rxDelay: 1,
      cfList: new Uint8Array(16).fill(1),
    },
    appKey,
  ),
];

const regionalSecret = randomSecretKey();
const regionalPublic = publicKeyOf(regionalSecret);
const regionalKey = { kid: keyIdOf(regionalPublic), secretKey: regionalSecret };
const ackHeader = { issuer: 'regional', gatewayId: 'gw-fuzz', iat: 1_780_000_000 };
const acks = [
  signAck({ digest: 'ab'.repeat(32), status: 'accepted', seq: 9 }, regionalKey, ackHeader),
  signAck(
    { digest: 'cd'.repeat(32), status: 'rejected', reason: 'BundleUnknownKey', transient: true },
    regionalKey,
    ackHeader,
  ),
];

const itemBytes = Uint8Array.from({ length: 900 }, (_, i) => (i * 31) & 0xff);
const fragments = splitItem('bundle', itemBytes, 340).map(encodeFragment);
const reassembler = new Reassembler({ maxInFlight: 16, maxItemBytes: 64 * 1024 });

const COMMAND_TOPIC = 'application/farm/device/0102030405060708/command/down';
const CONFIG_TEXT = `[gateway]
id = "B827EBFFFE123456"
region = "EU868"

[radio]
backend = ["semtech-udp", "serial"]
udp = { bind = "127.0.0.1:1700" }
serial = { path = "/dev/ttyACM0", baud = 115200 }

[mqtt]
port = 1883
username = "maverick"

[regional]
url = "mqtts://regional.example.org:8883"
node_key = "regional-node.pub"
links = ["mqtt", "satellite"]
satellite_daily_bytes = 4000
`;

/** Feeds a stream in up to three chunks, the way serial reads arrive; the decoder reports errors as events. */
function feedSerial(bytes: Uint8Array): unknown {
  const decoder = new SerialFrameDecoder();
  const cut1 = bytes.length ? bytes[0]! % (bytes.length + 1) : 0;
  const cut2 = Math.max(cut1, bytes.length ? bytes[bytes.length - 1]! % (bytes.length + 1) : 0);
  const events = [
    ...decoder.pushMessages(bytes.subarray(0, cut1)),
    ...decoder.pushMessages(bytes.subarray(cut1, cut2)),
    ...decoder.pushMessages(bytes.subarray(cut2)),
  ];
  for (const e of events)
    if (e.kind === 'error' && !(e.error instanceof MaverickError))
      throw new TypeError('a non-MaverickError event');
  return events;
}

export const targets: FuzzTarget[] = [
  {
    name: 'semtech-udp',
    about: 'Semtech UDP datagrams (decodeDatagram)',
    seeds: sampleDatagrams(),
    maxRandomBytes: 600,
    tokens: JSON_TOKENS,
    call: decodeDatagram,
  },
  {
    name: 'serial-frames',
    about: 'serial concentrator byte stream (SerialFrameDecoder)',
    seeds: sampleMessages.map((m) => encodeMessage(m)),
    maxRandomBytes: 400,
    call: feedSerial,
  },
  {
    name: 'single-channel-at',
    about: 'RAK3172 +EVT:RXP2P lines (parseRxP2pEvent)',
    seeds: [text('+EVT:RXP2P:-45:9:40010203040001000a01020304'), text('+EVT:RXP2P:-120:-12:00')],
    maxRandomBytes: 300,
    call: (b) => parseRxP2pEvent(asText(b)),
  },
  {
    name: 'lorawan-phy',
    about: 'LoRaWAN PHYPayload (decodePhy)',
    seeds: phySeeds,
    maxRandomBytes: 300,
    call: decodePhy,
  },
  {
    name: 'lorawan-join-accept',
    about: 'LoRaWAN join-accept (decodeJoinAccept)',
    seeds: joinAccepts,
    maxRandomBytes: 40,
    call: (b) => decodeJoinAccept(b, appKey),
  },
  {
    name: 'lorawan-mac',
    about: 'LoRaWAN MAC commands, both directions (parseMacCommands)',
    seeds: [
      Uint8Array.from([0x02, 0x03, 0x07, 0x06]),
      Uint8Array.from([0x03, 0x50, 0xff, 0x00, 0x01, 0x06, 0xff, 0x10]),
    ],
    maxRandomBytes: 64,
    call: (b) => [parseMacCommands(b, 'up'), parseMacCommands(b, 'down')],
  },
  ...evidenceTargets,
  {
    name: 'fragment',
    about: 'message-link fragments into the regional reassembler (decodeFragment + Reassembler.accept)',
    seeds: fragments,
    maxRandomBytes: 340,
    call: (b) => reassembler.accept('fuzz', decodeFragment(b)),
  },
  {
    name: 'link-status',
    about: 'message-link DONE/BITMAP status messages (decodeStatusRecords)',
    seeds: [
      encodeStatusRecords([
        { type: 'done', itemId: Uint8Array.of(1, 2, 3, 4), status: 'accepted' },
        {
          type: 'bitmap',
          itemId: Uint8Array.of(5, 6, 7, 8),
          count: 20,
          bitmap: Uint8Array.of(0xff, 0x0f, 0x01),
        },
      ]),
    ],
    maxRandomBytes: 270,
    call: decodeStatusRecords,
  },
  {
    name: 'sbd-at',
    about: 'Iridium SBD modem responses (+CSQ, +SBDIX, +SBDWB, +SBDRB frames)',
    seeds: [
      text('+CSQ:5'),
      text('+SBDIX: 0, 12, 1, 3, 270, 0'),
      text('0'),
      Uint8Array.of(0, 2, 0x41, 0x42, 0, 0x83),
    ],
    maxRandomBytes: 80,
    call: (b) => {
      const line = asText(b);
      const out: unknown[] = [];
      for (const parse of [parseCsq, parseSbdix, parseSbdwbResult]) {
        try {
          out.push(parse(line));
        } catch (err) {
          if (!isMaverickError(err)) throw err;
        }
      }
      out.push(parseSbdrbFrame(b));
      return out;
    },
  },
  {
    name: 'directip',
    about:
      'Iridium SBD DirectIP MO and MT messages, MT confirmations (decodeMoMessage, decodeMtMessage, decodeMtConfirmation)',
    seeds: [
      encodeMoMessage({
        header: {
          cdrReference: 1,
          imei: '300234010753370',
          sessionStatus: 0,
          momsn: 1,
          mtmsn: 0,
          timeOfSession: 1,
        },
        payload: fragments[0]!,
        location: { latitude: -1.5, longitude: 36.75, cepRadiusKm: 3 },
      }),
      encodeMtConfirmation({ clientMessageId: 1, imei: '300234010753370', autoIdReference: 2, status: 1 }),
    ],
    maxRandomBytes: 400,
    call: (b) => {
      const out: unknown[] = [];
      for (const parse of [decodeMoMessage, decodeMtConfirmation, decodeMtMessage]) {
        try {
          out.push(parse(b));
        } catch (err) {
          if (!isMaverickError(err)) throw err;
        }
      }
      return out;
    },
  },
  {
    name: 'signed-ack',
    about: 'regional acks over MQTT (verifyAck)',
    seeds: acks,
    maxRandomBytes: 300,
    call: (b) => verifyAck(b, regionalPublic, 'gw-fuzz'),
  },
  {
    name: 'mqtt-command-down',
    about: 'MQTT command/down JSON (parseDownlinkCommand)',
    seeds: [
      text(
        JSON.stringify({ devEui: '0102030405060708', confirmed: true, fPort: 10, data: 'AQID', id: 'abc' }),
      ),
      text(JSON.stringify({ fPort: 2, object: { digitalOutput: { '1': 1 } } })),
    ],
    maxRandomBytes: 200,
    tokens: JSON_TOKENS,
    call: (b) => parseDownlinkCommand(COMMAND_TOPIC, b),
  },
  {
    name: 'config-toml',
    about: 'maverick.toml (parseConfigText: TOML, then the schema)',
    seeds: [text(CONFIG_TEXT), text('[gateway]\nid = "B827EBFFFE123456"\nregion = "EU868"\n')],
    maxRandomBytes: 200,
    tokens: [
      '[',
      ']',
      '[[',
      '=',
      '"',
      "'''",
      '"""',
      '\n',
      '#',
      '{',
      '}',
      ',',
      '1e999',
      'inf',
      'nan',
      '0x',
      '1979-05-27T07:32:00Z',
      '[radio]',
      'backend',
      '\\u0000',
    ],
    call: (b) => parseConfigText(asText(b)),
  },
];
