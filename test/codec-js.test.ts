/**
 * JavaScript codecs in the QuickJS sandbox: the normal path, and every way a
 * codec can misbehave (throw, loop forever, eat memory, reach for the host,
 * return garbage), each ending as `errors` and a counter, never a crash or hang.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodecRunner } from '../kernel/codec/codec-runner.js';

let dir: string;
let runner: CodecRunner;
const recvTime = new Date('2026-05-01T10:00:00Z');

function codec(name: string, source: string): { kind: 'js'; path: string } {
  const path = join(dir, name);
  writeFileSync(path, source);
  return { kind: 'js', path };
}

const decode = (ref: { kind: 'js'; path: string }, bytes = [1, 2, 3], fPort = 5) =>
  runner.decodeUplink(ref, { bytes: new Uint8Array(bytes), fPort, recvTime });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'maverick-codec-'));
  runner = new CodecRunner({ limits: { timeLimitMs: 100 }, recheckMs: 0 });
});

afterAll(async () => {
  await runner.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('JS codecs in QuickJS', () => {
  it('decodes an uplink with bytes, fPort and recvTime as a Date', async () => {
    const ref = codec(
      'normal.js',
      `function decodeUplink(input) {
         return { data: { sum: input.bytes.reduce(function (a, b) { return a + b; }, 0), port: input.fPort,
                          year: input.recvTime.getUTCFullYear(), isDate: input.recvTime instanceof Date },
                  warnings: ['low battery'] };
       }
       function encodeDownlink(input) { return { bytes: [input.data.level, 255], fPort: 9 }; }`,
    );
    expect(await decode(ref)).toEqual({
      data: { sum: 6, port: 5, year: 2026, isDate: true },
      warnings: ['low battery'],
      errors: [],
    });
    const encoded = await runner.encodeDownlink(ref, { level: 7 });
    expect(encoded).toEqual({ bytes: new Uint8Array([7, 255]), fPort: 9, warnings: [], errors: [] });
  });

  it('a codec that throws gives errors, and the codec still works afterwards', async () => {
    const ref = codec(
      'throws.js',
      `function decodeUplink(input) { if (input.bytes[0] === 0) throw new RangeError('bad first byte'); return { data: { ok: true } }; }`,
    );
    const failed = await decode(ref, [0]);
    expect(failed.data).toBeUndefined();
    expect(failed.errors[0]).toMatch(/RangeError: bad first byte/);
    expect((await decode(ref, [1])).data).toEqual({ ok: true });
  });

  it('errors returned by the codec itself are passed on', async () => {
    const ref = codec('reports.js', `function decodeUplink() { return { errors: ['unknown frame type'] }; }`);
    expect(await decode(ref)).toEqual({ warnings: [], errors: ['unknown frame type'] });
  });

  it('an endless loop is interrupted within the time limit and counted', async () => {
    const ref = codec('loop.js', 'function decodeUplink() { while (true) {} }');
    const before = runner.counters().js.timeouts;
    const started = performance.now();
    const result = await decode(ref);
    const elapsed = performance.now() - started;
    expect(result.errors[0]).toMatch(/longer than 100 ms and was interrupted/);
    expect(elapsed).toBeLessThan(5000); // a hang bound (the 1 s watchdog at worst), not a speed claim
    expect(runner.counters().js.timeouts).toBe(before + 1);
  });

  it('a loop at load time is interrupted too', async () => {
    const ref = codec('load-loop.js', 'for (;;) {} function decodeUplink() { return { data: {} }; }');
    expect((await decode(ref)).errors[0]).toMatch(/failed to load/);
  });

  it('a memory bomb ends with an error (memory limit or watchdog), and other codecs keep working', async () => {
    const bomb = codec(
      'bomb.js',
      "function decodeUplink() { var a = []; while (true) a.push('x'.repeat(100000) + Math.random()); }",
    );
    const before = runner.counters().js;
    const started = performance.now();
    const result = await decode(bomb);
    expect(result.data).toBeUndefined();
    expect(result.errors[0]).toMatch(/memory limit|hard limit|interrupted/);
    expect(performance.now() - started).toBeLessThan(5000);
    const after = runner.counters().js;
    const overruns = (c: typeof after) => c.memoryFailures + c.sandboxRestarts + c.timeouts;
    expect(overruns(after)).toBe(overruns(before) + 1);
    const normal = codec(
      'after-bomb.js',
      'function decodeUplink(i) { return { data: { n: i.bytes.length } }; }',
    );
    expect((await decode(normal)).data).toEqual({ n: 3 });
  });

  it('deep recursion is a stack error, not a crash of the host', async () => {
    const ref = codec(
      'recurse.js',
      'function f(n) { return f(n + 1) + 1; } function decodeUplink() { return { data: { v: f(0) } }; }',
    );
    expect((await decode(ref)).errors[0]).toMatch(/stack|failed/);
  });

  it('has no process, require, fetch or other host objects', async () => {
    const probe = codec(
      'probe.js',
      `function decodeUplink() {
         return { data: { process: typeof process, require: typeof require, fetch: typeof fetch,
                          buffer: typeof Buffer, setTimeout: typeof setTimeout, importMeta: typeof globalThis.__filename } };
       }`,
    );
    expect((await decode(probe)).data).toEqual({
      process: 'undefined',
      require: 'undefined',
      fetch: 'undefined',
      buffer: 'undefined',
      setTimeout: 'undefined',
      importMeta: 'undefined',
    });
    const reach = codec(
      'reach.js',
      "function decodeUplink() { return { data: { fs: require('fs').readFileSync('/etc/passwd', 'utf8') } }; }",
    );
    expect((await decode(reach)).errors[0]).toMatch(/ReferenceError.*require/);
  });

  it('a codec returning a non-object, an array, no data or a cycle gives a clear error', async () => {
    const cases: [string, RegExp][] = [
      ['function decodeUplink() { return 42; }', /must return an object, got 42/],
      ['function decodeUplink() { return [1]; }', /must return an object, got an array/],
      ['function decodeUplink() { return undefined; }', /must return an object, got null/],
      ['function decodeUplink() { return { data: 7 }; }', /data an object/],
      ['function decodeUplink() { var o = {}; o.o = o; return { data: o }; }', /TypeError/],
      ['function decodeUplink() { return { data: { big: 1n } }; }', /TypeError/],
    ];
    let i = 0;
    for (const [source, pattern] of cases) {
      const result = await decode(codec(`garbage-${i++}.js`, source));
      expect(result.data, source).toBeUndefined();
      expect(result.errors[0], source).toMatch(pattern);
    }
  });

  it('validates what encodeDownlink returns', async () => {
    const ref = codec('bad-encode.js', 'function encodeDownlink() { return { bytes: [1, 256] }; }');
    expect((await runner.encodeDownlink(ref, {})).errors[0]).toMatch(/integers 0\.\.255/);
    const noEncoder = codec('no-encode.js', 'function decodeUplink() { return { data: {} }; }');
    expect((await runner.encodeDownlink(noEncoder, {})).errors[0]).toMatch(/does not define encodeDownlink/);
  });

  it('a syntax error or a missing file is an error, not a throw', async () => {
    expect((await decode(codec('syntax.js', 'function decodeUplink( {'))).errors[0]).toMatch(
      /failed to load: SyntaxError/,
    );
    expect((await decode({ kind: 'js', path: join(dir, 'absent.js') })).errors[0]).toMatch(/ENOENT/);
  });

  it('reloads a codec when its file changes', async () => {
    const ref = codec('versioned.js', 'function decodeUplink() { return { data: { version: 1 } }; }');
    expect((await decode(ref)).data).toEqual({ version: 1 });
    writeFileSync(ref.path, 'function decodeUplink() { return { data: { version: 2 } }; }');
    const later = new Date(Date.now() + 5000);
    utimesSync(ref.path, later, later);
    expect((await decode(ref)).data).toEqual({ version: 2 });
  });

  it('benches a codec that keeps overrunning, until its file changes', async () => {
    const local = new CodecRunner({
      limits: { timeLimitMs: 50 },
      recheckMs: 0,
      maxConsecutiveOverruns: 2,
      benchMs: 60_000,
    });
    try {
      const ref = codec('always-loops.js', 'function decodeUplink() { for (;;) {} }');
      expect(
        (await local.decodeUplink(ref, { bytes: new Uint8Array([1]), fPort: 1, recvTime })).errors[0],
      ).toMatch(/interrupted/);
      expect(
        (await local.decodeUplink(ref, { bytes: new Uint8Array([1]), fPort: 1, recvTime })).errors[0],
      ).toMatch(/interrupted/);
      const timeoutsBefore = local.counters().js.timeouts;
      const benched = await local.decodeUplink(ref, { bytes: new Uint8Array([1]), fPort: 1, recvTime });
      expect(benched.errors[0]).toMatch(/benched/);
      expect(local.counters().js.timeouts).toBe(timeoutsBefore); // refused without running the loop again
      expect(local.counters().js.benched).toBe(1);
      writeFileSync(ref.path, 'function decodeUplink() { return { data: { fixed: true } }; }');
      const later = new Date(Date.now() + 5000);
      utimesSync(ref.path, later, later);
      expect(
        (await local.decodeUplink(ref, { bytes: new Uint8Array([1]), fPort: 1, recvTime })).data,
      ).toEqual({ fixed: true });
    } finally {
      await local.close();
    }
  });

  it('counts decodes and failures', () => {
    const c = runner.counters().js;
    expect(c.decodes).toBeGreaterThan(10);
    expect(c.decodeFailures).toBeGreaterThan(5);
    expect(c.loads).toBeGreaterThan(5);
  });

  it('Cayenne LPP and none go through the same runner', async () => {
    const lpp = await runner.decodeUplink(
      { kind: 'cayenne-lpp' },
      { bytes: new Uint8Array([1, 0x67, 0, 0xff]), fPort: 1, recvTime },
    );
    expect(lpp.data).toEqual({ temperatureSensor: { '1': 25.5 } });
    expect(
      await runner.decodeUplink({ kind: 'none' }, { bytes: new Uint8Array([1]), fPort: 1, recvTime }),
    ).toEqual({
      warnings: [],
      errors: [],
    });
    const down = await runner.encodeDownlink({ kind: 'cayenne-lpp' }, { digitalOutput: { '2': 1 } });
    expect(down.bytes).toEqual(new Uint8Array([2, 1, 1]));
    expect((await runner.encodeDownlink({ kind: 'cayenne-lpp' }, { nope: {} })).errors[0]).toMatch(
      /not a Cayenne LPP type/,
    );
  });
});
