/**
 * MAC command codec, both directions (LoRaWAN 1.0.3 §5, Table 4; lengths and
 * bit layouts from §5.1–§5.13, Class B from §13–§14). MAC bytes are untrusted:
 * the parser never throws, it stops at the first unknown CID or truncated
 * command and says why, keeping the commands before it: an unknown CID's
 * length is unknown, so nothing after it can be framed (LoRaWAN 1.0.4 §5 has
 * receivers skip the remainder of the MAC payload).
 */
import { ErrorCode, MaverickError } from '../errors.js';
import { type MacSpec, SPECS } from './mac-specs.js';
import type { MacCommand, MacCommandName, MacDirection } from './mac-types.js';

export type { MacCommand, MacCommandName, MacDirection } from './mac-types.js';

type AnySpec = MacSpec<MacCommandName>;
const byCid: Record<MacDirection, Map<number, AnySpec>> = { up: new Map(), down: new Map() };
const byName = new Map<MacCommandName, AnySpec>();
for (const s of SPECS as readonly AnySpec[]) {
  byCid[s.direction].set(s.cid, s);
  byName.set(s.name, s);
}

/** Every command name we know, with its CID and the direction it travels. */
export const MAC_COMMANDS: readonly {
  name: MacCommandName;
  cid: number;
  direction: MacDirection;
  length: number;
}[] = SPECS.map((s) => ({ name: s.name, cid: s.cid, direction: s.direction, length: s.length }));

/**
 * Parses concatenated MAC commands of one direction ('up': sent by the device).
 * Never throws: stops at an unknown CID or a truncated command and reports it.
 */
export function parseMacCommands(
  bytes: Uint8Array,
  direction: MacDirection,
): { commands: MacCommand[]; error?: string } {
  const table = byCid[direction] ?? byCid.up;
  const commands: MacCommand[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const cid = bytes[offset];
    const s = table.get(cid);
    if (!s) {
      const what = cid >= 0x80 ? 'proprietary' : 'unknown';
      return {
        commands,
        error: `${what} ${direction}link CID 0x${cid.toString(16).padStart(2, '0')} at byte ${offset}`,
      };
    }
    if (offset + 1 + s.length > bytes.length) {
      return {
        commands,
        error: `${s.name} at byte ${offset} needs ${s.length} payload bytes, ${bytes.length - offset - 1} left`,
      };
    }
    commands.push(s.decode(bytes.subarray(offset + 1, offset + 1 + s.length)));
    offset += 1 + s.length;
  }
  return { commands };
}

/** Encodes MAC commands. Throws MaverickError(LorawanMacCommand) for a command of the wrong direction or a field out of range. */
export function encodeMacCommands(cmds: MacCommand[], direction: MacDirection): Uint8Array {
  const out: number[] = [];
  for (const cmd of cmds) {
    const s = byName.get(cmd.cid);
    if (!s || s.direction !== direction) {
      throw new MaverickError(
        ErrorCode.LorawanMacCommand,
        `${String(cmd.cid)} is not a ${direction}link MAC command`,
        {
          hint: 'Req commands travel downlink except LinkCheckReq, DeviceTimeReq and the Class B requests',
        },
      );
    }
    out.push(s.cid, ...s.encode(cmd));
  }
  return new Uint8Array(out);
}

/** Size in bytes (CID included) of one encoded command. */
export function macCommandSize(cid: MacCommandName): number {
  const s = byName.get(cid);
  if (!s) throw new MaverickError(ErrorCode.LorawanMacCommand, `unknown MAC command ${String(cid)}`);
  return 1 + s.length;
}
