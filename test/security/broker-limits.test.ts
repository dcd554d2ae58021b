/**
 * Attack 1 of the hardening issue, on both embedded brokers (the gateway's
 * local one and the regional node's), over real loopback sockets:
 *  - a CONNECT declaring 256 MB is cut off at its header, before login;
 *  - after login a packet over the post-login limit is cut off too;
 *  - connections beyond the limit are dropped;
 *  - password guessing from one address is locked out (the clock is injected,
 *    so the lock-out is checked without waiting for it);
 *  - neither listens beyond loopback in plaintext unless told to explicitly.
 */
import { type Socket, connect as tcpConnect } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttBroker } from '../../gateway/mqtt/broker.js';
import { ErrorCode, isMaverickError } from '../../proto/errors.js';
import type { BrokerGuardCounters, BrokerLimits } from '../../proto/mqtt/broker-guard.js';
import { EmbeddedRegionalBroker } from '../../regional/transport/embedded-broker.js';

const USER = 'farm-app';
const PASSWORD = 'the-right-password-0123';

interface BrokerUnderTest {
  port: number;
  counters: BrokerGuardCounters;
  close(): Promise<void>;
}

type StartBroker = (
  limits: BrokerLimits,
  host?: string,
  allowPlaintext?: boolean,
) => Promise<BrokerUnderTest>;

const brokers: Record<string, StartBroker> = {
  'gateway broker': async (limits, host = '127.0.0.1', allowPlaintext = false) => {
    const broker = await MqttBroker.start({
      host,
      port: 0,
      username: USER,
      password: PASSWORD,
      limits,
      allowPlaintextBeyondLoopback: allowPlaintext,
    });
    return { port: broker.address().port, counters: broker.guard.counters, close: () => broker.close() };
  },
  'regional broker': async (limits, host = '127.0.0.1', allowPlaintext = false) => {
    const broker = await EmbeddedRegionalBroker.start({
      host,
      port: 0,
      credentials: { username: USER, password: PASSWORD },
      limits,
      allowPlaintextBeyondLoopback: allowPlaintext,
    });
    return { port: broker.port, counters: broker.guard.counters, close: () => broker.close() };
  },
};

const open: Array<{ close(): Promise<void> }> = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(open.splice(0).map((b) => b.close()));
});

async function start(kind: string, limits: BrokerLimits = {}): Promise<BrokerUnderTest> {
  const broker = await brokers[kind]!(limits);
  open.push(broker);
  return broker;
}

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', () => {}); // the broker cutting us off is the expected outcome
    socket.once('error', reject);
    sockets.push(socket);
  });
}

/** Resolves true when the peer closes the socket within `ms`, false otherwise (bounded). */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function login(port: number, password: string) {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    username: USER,
    password,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  const outcome = await new Promise<'accepted' | 'refused'>((resolve) => {
    client.once('connect', () => resolve('accepted'));
    client.once('error', () => resolve('refused'));
  });
  await client.endAsync(true);
  return outcome;
}

/** CONNECT fixed header declaring 268,435,455 bytes (the MQTT maximum). */
const HUGE_CONNECT_HEADER = Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]);

for (const kind of Object.keys(brokers)) {
  describe(`${kind}: limits before and after login`, () => {
    it('closes a connection whose CONNECT declares 256 MB, before any body is buffered', async () => {
      const broker = await start(kind);
      const socket = await rawSocket(broker.port);
      socket.write(HUGE_CONNECT_HEADER);
      socket.write(Buffer.alloc(64 * 1024));
      expect(await closedWithin(socket, 5000)).toBe(true);
      expect(broker.counters.oversizeRefused).toBe(1);
    });

    it('closes a logged-in client that sends a packet over the post-login limit', async () => {
      const broker = await start(kind, { maxPacketBytes: 64 * 1024 });
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
        username: USER,
        password: PASSWORD,
        reconnectPeriod: 0,
      });
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      // A topic both ACLs let a client publish to; under the limit it is taken (PUBACK).
      const topic = 'application/1/device/0102030405060708/command/down';
      await client.publishAsync(topic, Buffer.alloc(1000), { qos: 1 });
      expect(client.connected).toBe(true);
      client.publish(topic, Buffer.alloc(200 * 1024));
      await closed;
      expect(broker.counters.oversizeRefused).toBe(1);
      await client.endAsync(true);
    });

    it('drops connections beyond the limit and keeps the ones within it', async () => {
      const broker = await start(kind, { maxConnections: 3, connectTimeoutMs: 60_000 });
      const within = [
        await rawSocket(broker.port),
        await rawSocket(broker.port),
        await rawSocket(broker.port),
      ];
      const beyond = await rawSocket(broker.port);
      expect(await closedWithin(beyond, 5000)).toBe(true);
      expect(broker.counters.connectionsRefused).toBe(1);
      for (const s of within) expect(s.destroyed).toBe(false);
    });

    it('locks an address out after failed logins: even the right password waits', async () => {
      let now = 1_000_000;
      const broker = await start(kind, {
        backoff: { freeFailures: 3, baseMs: 1000, maxMs: 60_000, now: () => now },
      });
      for (let i = 0; i < 10; i++) expect(await login(broker.port, `guess-${i}`)).toBe('refused');
      // Locked out: the right password is refused without being checked.
      expect(await login(broker.port, PASSWORD)).toBe('refused');
      expect(broker.counters.loginsLockedOut).toBeGreaterThan(0);
      // Guesses stopped counting once the lock-out began.
      expect(broker.counters.loginsFailed).toBe(4);
      now += 61_000;
      expect(await login(broker.port, PASSWORD)).toBe('accepted');
    });

    it('refuses to listen beyond loopback in plaintext unless told so explicitly', async () => {
      try {
        await brokers[kind]!({}, '0.0.0.0');
        expect.unreachable('a plaintext 0.0.0.0 listener started');
      } catch (err) {
        expect(isMaverickError(err, ErrorCode.ConfigInvalid)).toBe(true);
        expect((err as Error).message).toContain('without TLS');
      }
      const allowed = await brokers[kind]!({}, '0.0.0.0', true);
      open.push(allowed);
      expect(allowed.port).toBeGreaterThan(0);
    });
  });
}
