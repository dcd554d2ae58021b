import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DESCRIPTOR_BYTES, instantiateSha256Lanes, ivBytes, sha256LanesModule } from './sha256-lanes.js';

/** SHA-256's padding after `length` message bytes: 0x80, zeros, the 64-bit bit length. */
function padded(message: Uint8Array, prefixBytes: number): Uint8Array {
  const blocks = Math.ceil((message.length + 9) / 64);
  const out = new Uint8Array(blocks * 64);
  out.set(message);
  out[message.length] = 0x80;
  new DataView(out.buffer).setBigUint64(out.length - 8, BigInt(8 * (prefixBytes + message.length)));
  return out;
}

interface Job {
  prefix: Uint8Array;
  message: Uint8Array;
}

/**
 * Runs `jobs` through one instance the way callers do: each prefix (whole blocks) hashed
 * unpadded into a midstate by one `hash` call, then every padded message from its midstate by
 * another; returns the digests read back from the module's memory.
 */
function lanesDigests(jobs: Job[]): Buffer[] {
  const wasm = instantiateSha256Lanes();
  const inputs: { at: number; bytes: Uint8Array }[] = [];
  let cursor = 64 + jobs.length * (2 * DESCRIPTOR_BYTES + 64);
  const place = (bytes: Uint8Array) => {
    inputs.push({ at: cursor, bytes });
    cursor += bytes.length;
    return cursor - bytes.length;
  };
  const midstates = jobs.map((job) => (job.prefix.length ? place(job.prefix) : 0));
  const messages = jobs.map((job) => place(padded(job.message, job.prefix.length)));
  const descriptors = 64;
  const midstateAt = (i: number) => descriptors + jobs.length * 2 * DESCRIPTOR_BYTES + 32 * i;
  const digestAt = (i: number) => cursor + 32 * i;
  wasm.memory.grow(Math.ceil((cursor + 32 * jobs.length) / 65_536));
  const memory = new Uint8Array(wasm.memory.buffer);
  const words = new Uint32Array(wasm.memory.buffer);
  memory.set(ivBytes(), 0);
  for (const { at, bytes } of inputs) memory.set(bytes, at);
  const describe = (k: number, input: number, blocks: number, from: number, out: number) =>
    words.set([input, blocks, from, out], (descriptors + k * DESCRIPTOR_BYTES) / 4);
  // Midstates first (only jobs with a prefix), then the messages.
  const withPrefix = jobs.map((_, i) => i).filter((i) => (jobs[i] as Job).prefix.length > 0);
  withPrefix.forEach((i, k) => {
    describe(k, midstates[i] as number, (jobs[i] as Job).prefix.length / 64, 0, midstateAt(i));
  });
  wasm.hash(descriptors, withPrefix.length);
  jobs.forEach((job, i) => {
    const blocks = Math.ceil((job.message.length + 9) / 64);
    describe(i, messages[i] as number, blocks, job.prefix.length ? midstateAt(i) : 0, digestAt(i));
  });
  wasm.hash(descriptors, jobs.length);
  const out = memory;
  return jobs.map((_, i) => Buffer.from(out.subarray(digestAt(i), digestAt(i) + 32)));
}

const nodeDigest = (job: Job) => createHash('sha256').update(job.prefix).update(job.message).digest();

describe('SHA-256 four messages at a time in WebAssembly SIMD (node:crypto as the oracle)', () => {
  it('is a valid module this Node compiles, the same bytes every time', () => {
    expect(Buffer.from(sha256LanesModule())).toEqual(Buffer.from(sha256LanesModule()));
    expect(() => instantiateSha256Lanes()).not.toThrow();
  });

  it('hashes "abc", the empty string and every length to 3 blocks, in groups of every size', () => {
    const empty = new Uint8Array(0);
    const jobs: Job[] = [
      { prefix: empty, message: new TextEncoder().encode('abc') },
      { prefix: empty, message: empty },
      ...Array.from({ length: 3 * 64 + 2 }, (_, n) => ({
        prefix: empty,
        message: Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff),
      })),
    ];
    const digests = lanesDigests(jobs);
    expect(digests[0]?.toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(digests).toEqual(jobs.map(nodeDigest));
    // Group sizes 1, 2, 3 (a last group that repeats its last lane) and lengths mixed within groups.
    for (let count = 1; count <= 9; count++) {
      const some = jobs.slice(37, 37 + count);
      expect(lanesDigests(some)).toEqual(some.map(nodeDigest));
    }
  });

  it('hashes any messages from any whole-block prefixes (midstates), mixed lengths in one call (property)', () => {
    const job = fc.record({
      prefix: fc
        .integer({ min: 0, max: 3 })
        .chain((blocks) => fc.uint8Array({ minLength: 64 * blocks, maxLength: 64 * blocks })),
      message: fc.uint8Array({ maxLength: 300 }),
    });
    fc.assert(
      fc.property(fc.array(job, { minLength: 1, maxLength: 13 }), (jobs) => {
        expect(lanesDigests(jobs)).toEqual(jobs.map(nodeDigest));
      }),
      { numRuns: 100 },
    );
  });

  it('copies Merkle children into their node messages, after the prefix byte', () => {
    const wasm = instantiateSha256Lanes();
    const memory = new Uint8Array(wasm.memory.buffer);
    const children = Uint8Array.from({ length: 3 * 64 }, (_, i) => (i * 7 + 1) & 0xff);
    memory.set(children, 1024);
    memory.fill(0xee, 4096, 4096 + 4 * 128);
    wasm.nodes(1024, 3, 4096);
    for (let k = 0; k < 3; k++) {
      const slot = 4096 + 128 * k;
      expect(memory[slot]).toBe(0xee);
      expect(Buffer.from(memory.subarray(slot + 1, slot + 65))).toEqual(
        Buffer.from(children.subarray(64 * k, 64 * k + 64)),
      );
      expect(memory[slot + 65]).toBe(0xee);
    }
    expect(memory[4096 + 3 * 128 + 1]).toBe(0xee);
  });
});
