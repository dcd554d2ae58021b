/**
 * Attack 1 against the real gateway process: 20 connections each send a
 * CONNECT declaring 256 MB and then stream 8 MB of it, without logging in.
 * Before the fix aedes buffered every byte (≈ +160 MB here, never given back);
 * now each connection is closed at its header. The gateway's resident memory
 * (VmRSS from /proc) must stay within 50 MB of its idle figure during the
 * attack, and be back within 10 % of idle afterwards.
 *
 * Memory is the one thing here that cannot run on an injected clock: the
 * process's RSS is sampled in real time. The recovery check polls for at most
 * 60 s (the "a minute later") and passes as soon as RSS is back.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initSetup } from '../../gateway/config/index.js';
import { type CliProcess, spawnCli } from '../helpers/cli.js';
import { freeTcpPort, freeUdpPort, useFreePorts } from '../helpers/ports.js';

const root = mkdtempSync(join(tmpdir(), 'maverick-preauth-'));
let running: CliProcess | undefined;

afterAll(async () => {
  if (running && running.child.exitCode === null) {
    running.child.kill('SIGKILL');
    await running.done;
  }
  rmSync(root, { recursive: true, force: true });
});

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]);
  return kb / 1024;
}

/** Sends the declared-256-MB CONNECT and up to `bytes` of its body; resolves when the socket ends either way. */
function oversizedConnect(port: number, bytes: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    let sent = 0;
    const chunk = Buffer.alloc(256 * 1024, 0x41);
    socket.on('error', () => {}); // being cut off is what the fix does
    socket.once('close', () => resolve(sent));
    socket.once('connect', () => {
      socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
      const pump = () => {
        while (sent < bytes && !socket.destroyed) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    });
  });
}

describe('pre-login memory exhaustion on the gateway broker (real process)', () => {
  it('keeps RSS within 50 MB of idle under 20 oversized CONNECTs, and back within 10 % after', async () => {
    const dir = join(root, 'gw');
    await initSetup({ dataDir: dir, gatewayId: 'b827ebfffe000002', mqttPassword: 'preauth-pw' });
    const [udpPort, metricsPort, mqttPort] = [await freeUdpPort(), await freeTcpPort(), await freeTcpPort()];
    useFreePorts(dir, { metricsPort, mqttPort });
    running = spawnCli(['run', '--data-dir', dir, '--udp-bind', `127.0.0.1:${udpPort}`], {
      timeoutMs: 170_000,
    });
    await running.waitFor(/maverick running: gateway b827ebfffe000002/, 60_000);
    const pid = running.child.pid as number;
    // Idle: the smallest of a few samples after start-up settled.
    const idleSamples: number[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 200));
      idleSamples.push(rssMb(pid));
    }
    const idle = Math.min(...idleSamples);

    let peak = idle;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMb(pid));
    }, 25);
    try {
      await Promise.all(Array.from({ length: 20 }, () => oversizedConnect(mqttPort, 8 * 1024 * 1024)));
      peak = Math.max(peak, rssMb(pid));
    } finally {
      clearInterval(sampler);
    }
    expect(peak - idle, `idle ${idle.toFixed(1)} MB, peak ${peak.toFixed(1)} MB`).toBeLessThan(50);

    // Recovery: poll up to 60 s for RSS within 10 % of idle.
    let after = rssMb(pid);
    for (let i = 0; i < 120 && after > idle * 1.1; i++) {
      await new Promise((r) => setTimeout(r, 500));
      after = rssMb(pid);
    }
    expect(after, `idle ${idle.toFixed(1)} MB, after ${after.toFixed(1)} MB`).toBeLessThanOrEqual(idle * 1.1);

    // The gateway still serves: a real client logs in.
    const { default: mqtt } = await import('mqtt');
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      username: 'maverick',
      password: 'preauth-pw',
      reconnectPeriod: 0,
    });
    expect(client.connected).toBe(true);
    await client.endAsync(true);
  }, 180_000);
});
