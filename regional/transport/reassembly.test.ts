import { describe, expect, it } from 'vitest';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import { splitItem } from '../../proto/link/fragment.js';
import { Reassembler } from './reassembly.js';

const item = (n: number, fill: number) => new Uint8Array(n).map((_, i) => (i + fill) & 0xff);

describe('Reassembler', () => {
  it('reassembles out of order, reports a bitmap, and answers settled items with their status', () => {
    const r = new Reassembler();
    const bytes = item(1000, 1);
    const frags = splitItem('bundle', bytes, 340);
    const first = r.accept('a', frags[2]!);
    expect(first).toMatchObject({ state: 'partial', count: 4 });
    expect(first.state === 'partial' && first.bitmap[0]).toBe(0b100);
    r.accept('a', frags[0]!);
    r.accept('a', frags[0]!); // duplicate fragment: no harm
    r.accept('a', frags[3]!);
    const done = r.accept('a', frags[1]!);
    expect(done.state === 'complete' && Buffer.from(done.bytes).equals(Buffer.from(bytes))).toBe(true);
    r.settle(Buffer.from(frags[0]!.itemId).toString('hex'), 'accepted');
    expect(r.accept('a', frags[1]!)).toEqual({ state: 'settled', status: 'accepted' });
    expect(r.inFlight).toBe(0);
  });

  it('caps items in flight (least recently touched goes), size, and age', () => {
    let t = 0;
    const r = new Reassembler({ maxInFlight: 2, maxItemBytes: 700, expiryMs: 1000, now: () => t });
    const a = splitItem('bundle', item(700, 1), 340);
    const b = splitItem('bundle', item(700, 2), 340);
    const c = splitItem('bundle', item(700, 3), 340);
    r.accept('x', a[0]!);
    t = 1;
    r.accept('x', b[0]!);
    t = 2;
    r.accept('x', c[0]!);
    expect(r.inFlight).toBe(2);
    // a was evicted: its next fragment starts over.
    expect(r.accept('x', a[1]!)).toMatchObject({ state: 'partial' });
    t = 5000;
    r.accept('x', c[1]!);
    expect(r.inFlight).toBe(1);
    const big = splitItem('bundle', item(2000, 4), 340);
    let err: unknown;
    try {
      for (const f of big) r.accept('x', f);
    } catch (e) {
      err = e;
    }
    expect(isMaverickError(err, ErrorCode.LinkFragment)).toBe(true);
  });

  it('drops an item whose bytes do not hash to its id', () => {
    const r = new Reassembler();
    const frags = splitItem('bundle', item(500, 1), 340);
    const forged = { ...frags[1]!, payload: frags[1]!.payload.map((x) => x ^ 1) };
    r.accept('x', frags[0]!);
    expect(() => r.accept('x', forged)).toThrow(/another digest/);
    expect(r.inFlight).toBe(0);
  });
});
