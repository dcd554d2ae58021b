/** Free loopback ports for tests that must hand a port number to a spawned `maverick`. */
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Points an `initSetup` data dir's maverick.toml at free metrics and MQTT ports (the defaults may be taken). */
export function useFreePorts(dataDir: string, ports: { metricsPort: number; mqttPort: number }): void {
  const file = join(dataDir, 'maverick.toml');
  writeFileSync(
    file,
    readFileSync(file, 'utf8')
      .replace('bind = "127.0.0.1:8868"', `bind = "127.0.0.1:${ports.metricsPort}"`)
      .replace('port = 1883', `port = ${ports.mqttPort}`),
  );
}

/** A free loopback port of either kind. */
export function freePort(kind: 'udp' | 'tcp'): Promise<number> {
  return kind === 'udp' ? freeUdpPort() : freeTcpPort();
}
