/**
 * The LoRa Alliance TR005 device QR code ("LoRaWAN Device Identification QR
 * Codes"): `LW:D0:<JoinEUI>:<DevEUI>:<ProfileID>` followed by optional
 * fields, each a one-letter tag and its value, e.g.
 * `LW:D0:70B3D57ED0000000:0004A30B001C0530:00000000:O1234:SABC123:CAF21`.
 * ProfileID is the vendor id (4 hex digits) and the vendor's profile id
 * (4 hex digits). The optional fields are kept as text: O = owner token,
 * S = serial number, P = proprietary, C = checksum.
 *
 * Read from a camera or an image: untrusted text. A malformed code throws a
 * TypeError saying what is wrong, never anything else. Pure (no Node, no DOM):
 * the console page bundles it.
 */

export interface Tr005Code {
  joinEui: string;
  devEui: string;
  vendorId: string;
  profileId: string;
  ownerToken?: string;
  serialNumber?: string;
  proprietary?: string;
  checksum?: string;
}

const EUI = /^[0-9A-Fa-f]{16}$/;
const PROFILE = /^[0-9A-Fa-f]{8}$/;
const OPTIONAL: Record<string, keyof Tr005Code> = {
  O: 'ownerToken',
  S: 'serialNumber',
  P: 'proprietary',
  C: 'checksum',
};
/** QR codes hold at most a few thousand characters; a device code is far below this. */
const MAX_LENGTH = 512;

export function parseTr005(text: string): Tr005Code {
  if (typeof text !== 'string') throw new TypeError('a TR005 code is text');
  const trimmed = text.trim();
  if (trimmed.length > MAX_LENGTH) throw new TypeError(`a TR005 code is at most ${MAX_LENGTH} characters`);
  const parts = trimmed.split(':');
  if (parts[0] !== 'LW') throw new TypeError('not a LoRaWAN device QR code (it must start with "LW:")');
  if (parts[1] !== 'D0')
    throw new TypeError(`unsupported TR005 schema "${parts[1] ?? ''}" (only D0 is defined)`);
  const [joinEui = '', devEui = '', profile = ''] = parts.slice(2, 5);
  if (!EUI.test(joinEui)) throw new TypeError('JoinEUI: 16 hexadecimal characters expected');
  if (!EUI.test(devEui)) throw new TypeError('DevEUI: 16 hexadecimal characters expected');
  if (!PROFILE.test(profile)) throw new TypeError('ProfileID: 8 hexadecimal characters expected');
  const code: Tr005Code = {
    joinEui: joinEui.toLowerCase(),
    devEui: devEui.toLowerCase(),
    vendorId: profile.slice(0, 4).toLowerCase(),
    profileId: profile.slice(4).toLowerCase(),
  };
  for (const field of parts.slice(5)) {
    const key = OPTIONAL[field.charAt(0)];
    if (!key) throw new TypeError(`unknown optional field "${field.slice(0, 8)}" (known tags: O, S, P, C)`);
    if (code[key] !== undefined) throw new TypeError(`optional field ${field.charAt(0)} appears twice`);
    code[key] = field.slice(1);
  }
  return code;
}

/** The text of a TR005 code (what a label printer would encode). */
export function formatTr005(
  code: Pick<Tr005Code, 'joinEui' | 'devEui' | 'vendorId' | 'profileId'> & Partial<Tr005Code>,
): string {
  const parts = ['LW', 'D0', code.joinEui, code.devEui, `${code.vendorId}${code.profileId}`].map((p) =>
    p.toUpperCase(),
  );
  for (const [tag, key] of Object.entries(OPTIONAL)) {
    const value = code[key];
    if (value !== undefined) parts.push(`${tag}${value}`);
  }
  return parts.join(':');
}
