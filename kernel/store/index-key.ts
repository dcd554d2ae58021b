/**
 * Index keys stored so that SQLite's byte order equals JavaScript's string order.
 *
 * RxDB turns every index into one "indexable string" (getIndexableStringMonad)
 * and compares those with `<`, i.e. by UTF-16 code units. SQLite's TEXT with
 * BINARY collation compares UTF-8 bytes (memcmp), i.e. by code points, and the
 * two orders disagree: an astral character (U+1F600, surrogates D83D DE00)
 * sorts BEFORE U+E000–U+FFFF in UTF-16 but AFTER them in UTF-8. RxDB's own
 * upper bound is U+FFFF, so this matters for every range query.
 *
 * The two orders agree for strings whose code units are all below U+D800
 * (each unit is then its own code point). So every unit u >= U+D800 —
 * surrogates and U+E000–U+FFFF alike — is remapped to the code point
 * U+10000 + (u − U+D800) (range U+10000–U+127FF): the map is strictly
 * increasing and yields valid scalar values only, hence UTF-8 byte order of
 * the result = code point order = the original code unit order. Keys below
 * U+D800 (RxDB's keys are almost always ASCII digits and ids) are stored
 * unchanged, with no copy — the common path costs one regex test.
 * Embedded NULs (RxDB pads lower bounds with U+0000) are fine: both drivers
 * bind text with its length and BINARY collation compares lengths, not C strings.
 */

const highUnit = /[\uD800-\uFFFF]/;

/** The TEXT key for an RxDB indexable string; compares in SQLite like the string in JS. */
export function encodeIndexKey(indexString: string): string {
  if (!highUnit.test(indexString)) return indexString;
  let out = '';
  for (let i = 0; i < indexString.length; i++) {
    const unit = indexString.charCodeAt(i);
    out += unit < 0xd800 ? indexString[i] : String.fromCodePoint(0x10000 + (unit - 0xd800));
  }
  return out;
}

/** Inverse of encodeIndexKey (for tests and debugging tools). */
export function decodeIndexKey(key: string): string {
  let out = '';
  for (const char of key) {
    const point = char.codePointAt(0) ?? 0;
    out += point >= 0x10000 ? String.fromCharCode(point - 0x10000 + 0xd800) : char;
  }
  return out;
}
