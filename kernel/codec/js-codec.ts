/**
 * TTS/ChirpStack v4-style JavaScript codecs loaded from files:
 *   decodeUplink({ bytes: number[], fPort, recvTime: Date, variables }) → { data, warnings?, errors? }
 *   encodeDownlink({ data, variables }) → { bytes: number[], fPort?, warnings?, errors? }   (optional)
 * run in QuickJS (see js-sandbox.ts), compiled once per file and reloaded when
 * the file's mtime or size changes. Every failure — unreadable file, syntax
 * error, throw, endless loop, memory bomb, garbage result — becomes `errors`
 * in the result and a counted failure; nothing here throws.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../../proto/log.js';
import { silentLogger, WarnLimiter } from '../../proto/log.js';
import { DEFAULT_LIMITS, QuickJsSandbox, type SandboxLimits, type SandboxReply } from './js-sandbox.js';
import type { CodecResult, EncodeResult, UplinkInput } from './types.js';

export interface JsCodecOptions {
  limits?: Partial<SandboxLimits>;
  logger?: Logger;
  /** How often (ms) a file's mtime is checked; 0 checks on every call. */
  recheckMs?: number;
  /** Largest codec file accepted. */
  maxSourceBytes?: number;
  /** After this many overruns in a row (time, memory, stack, watchdog) a codec is benched… */
  maxConsecutiveOverruns?: number;
  /** …for this long (ms), or until its file changes: one bad codec must not stall every uplink. */
  benchMs?: number;
  /**
   * Largest codec answer (its JSON, in bytes) accepted; default 16 KiB. Every uplink's decoded
   * object is stored and published, so a codec returning megabytes would fill the store.
   */
  maxOutputBytes?: number;
}

/** Failures that cost the sandbox real time or a restart, as opposed to a codec's ordinary throw. */
const OVERRUNS = new Set(['timeout', 'memory', 'stack', 'killed', 'crash']);

interface CodecHealth {
  mtimeMs: number;
  size: number;
  overruns: number;
  benchedUntil: number;
}

/** Largest LoRaWAN FRMPayload (LoRaWAN Regional Parameters: 242 bytes at the fastest EU868 data rate). */
const MAX_DOWNLINK_BYTES = 242;

interface CachedCodec {
  mtimeMs: number;
  size: number;
  checkedAt: number;
  generation: number;
  loadError?: string;
  exports?: { decodeUplink: boolean; encodeDownlink: boolean };
}

export type JsCodecCounters = Record<
  | 'loads'
  | 'loadFailures'
  | 'decodes'
  | 'decodeFailures'
  | 'encodes'
  | 'encodeFailures'
  | 'timeouts'
  | 'memoryFailures'
  | 'sandboxRestarts'
  | 'benched'
  | 'oversizeOutputs',
  number
>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
}

export class JsCodecHost {
  private readonly sandbox: QuickJsSandbox;
  private readonly cache = new Map<string, CachedCodec>();
  private readonly health = new Map<string, CodecHealth>();
  private readonly maxOverruns: number;
  private readonly benchMs: number;
  private readonly loading = new Map<string, Promise<CachedCodec | string>>();
  private readonly recheckMs: number;
  private readonly maxSourceBytes: number;
  private readonly log: Logger;
  private readonly maxOutputBytes: number;
  private readonly oversizeWarnings: WarnLimiter;
  private readonly stats: JsCodecCounters = {
    loads: 0,
    loadFailures: 0,
    decodes: 0,
    decodeFailures: 0,
    encodes: 0,
    encodeFailures: 0,
    timeouts: 0,
    memoryFailures: 0,
    sandboxRestarts: 0,
    benched: 0,
    oversizeOutputs: 0,
  };

  constructor(options: JsCodecOptions = {}) {
    this.log = options.logger ?? silentLogger;
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    if (options.limits?.timeLimitMs !== undefined && options.limits.hardLimitMs === undefined) {
      limits.hardLimitMs = Math.max(DEFAULT_LIMITS.hardLimitMs, limits.timeLimitMs * 10);
    }
    this.sandbox = new QuickJsSandbox(limits, this.log);
    this.recheckMs = options.recheckMs ?? 1000;
    this.maxSourceBytes = options.maxSourceBytes ?? 1024 * 1024;
    this.maxOverruns = options.maxConsecutiveOverruns ?? 3;
    this.benchMs = options.benchMs ?? 60_000;
    this.maxOutputBytes = options.maxOutputBytes ?? 16 * 1024;
    this.oversizeWarnings = new WarnLimiter(this.log);
  }

  counters(): Readonly<JsCodecCounters> {
    return { ...this.stats, sandboxRestarts: this.sandbox.restarts };
  }

  close(): Promise<void> {
    return this.sandbox.close();
  }

  async decodeUplink(path: string, input: UplinkInput): Promise<CodecResult> {
    this.stats.decodes++;
    const result = await this.decode(path, input);
    if (result.errors.length > 0) {
      this.stats.decodeFailures++;
      this.log.debug({ path, errors: result.errors }, 'codec decode failed');
    }
    return result;
  }

  async encodeDownlink(path: string, data: Record<string, unknown>): Promise<EncodeResult> {
    this.stats.encodes++;
    const result = await this.encode(path, data);
    if (result.errors.length > 0) {
      this.stats.encodeFailures++;
      this.log.debug({ path, errors: result.errors }, 'codec encode failed');
    }
    return result;
  }

  private async decode(path: string, input: UplinkInput): Promise<CodecResult> {
    const codec = await this.ensureLoaded(path);
    if (typeof codec === 'string') return { warnings: [], errors: [codec] };
    const benched = this.benchedMessage(path, codec);
    if (benched) return { warnings: [], errors: [benched] };
    if (!codec.exports?.decodeUplink)
      return { warnings: [], errors: [`${path} does not define decodeUplink(input)`] };
    const json = JSON.stringify({
      bytes: Array.from(input.bytes),
      fPort: input.fPort,
      recvTime: input.recvTime.toISOString(),
      variables: {},
    });
    const out = this.parseOutput(await this.callLoaded(path, 'decodeUplink', json), 'decodeUplink', path);
    if (typeof out === 'string') return { warnings: [], errors: [out] };
    const warnings = stringList(out.warnings);
    const errors = stringList(out.errors);
    if (errors.length > 0) return { warnings, errors };
    if (!isPlainObject(out.data)) {
      return { warnings, errors: ['decodeUplink must return { data: { … } } with data an object'] };
    }
    return { data: out.data, warnings, errors };
  }

  private async encode(path: string, data: Record<string, unknown>): Promise<EncodeResult> {
    const codec = await this.ensureLoaded(path);
    if (typeof codec === 'string') return { warnings: [], errors: [codec] };
    const benched = this.benchedMessage(path, codec);
    if (benched) return { warnings: [], errors: [benched] };
    if (!codec.exports?.encodeDownlink) {
      return { warnings: [], errors: [`${path} does not define encodeDownlink(input)`] };
    }
    const reply = await this.callLoaded(path, 'encodeDownlink', JSON.stringify({ data, variables: {} }));
    const out = this.parseOutput(reply, 'encodeDownlink', path);
    if (typeof out === 'string') return { warnings: [], errors: [out] };
    const warnings = stringList(out.warnings);
    const errors = stringList(out.errors);
    if (errors.length > 0) return { warnings, errors };
    const bytes = out.bytes;
    if (
      !Array.isArray(bytes) ||
      bytes.length > MAX_DOWNLINK_BYTES ||
      !bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)
    ) {
      return {
        warnings,
        errors: [`encodeDownlink must return bytes: an array of ≤ ${MAX_DOWNLINK_BYTES} integers 0..255`],
      };
    }
    const result: EncodeResult = { bytes: new Uint8Array(bytes as number[]), warnings, errors };
    if (out.fPort !== undefined) {
      if (typeof out.fPort !== 'number' || !Number.isInteger(out.fPort) || out.fPort < 1 || out.fPort > 223) {
        return { warnings, errors: ['encodeDownlink returned an fPort outside 1..223'] };
      }
      result.fPort = out.fPort;
    }
    return result;
  }

  /** Calls a loaded codec; when another codec's overrun restarted the sandbox meanwhile, loads it again once. */
  private async callLoaded(
    path: string,
    fn: 'decodeUplink' | 'encodeDownlink',
    json: string,
  ): Promise<SandboxReply> {
    let reply = await this.sandbox.call(path, fn, json);
    if (!reply.ok && reply.kind === 'missing') {
      this.cache.delete(path);
      const codec = await this.ensureLoaded(path);
      if (typeof codec === 'string') return { ok: false, kind: 'load', error: codec };
      reply = await this.sandbox.call(path, fn, json);
    }
    this.noteOutcome(path, reply);
    return reply;
  }

  /** Counts overruns in a row per codec version and benches a codec that keeps overrunning. */
  private noteOutcome(path: string, reply: SandboxReply): void {
    const cached = this.cache.get(path);
    if (!cached) return;
    let health = this.health.get(path);
    if (!health || health.mtimeMs !== cached.mtimeMs || health.size !== cached.size) {
      health = { mtimeMs: cached.mtimeMs, size: cached.size, overruns: 0, benchedUntil: 0 };
      this.health.set(path, health);
    }
    if (reply.ok || !OVERRUNS.has(reply.kind)) {
      health.overruns = 0;
      return;
    }
    health.overruns++;
    if (health.overruns >= this.maxOverruns) {
      health.benchedUntil = Date.now() + this.benchMs;
      health.overruns = 0;
      this.stats.benched++;
      this.log.warn({ path, benchMs: this.benchMs }, 'codec benched after repeated overruns');
    }
  }

  /** Why this codec version may not run right now, if it is benched. */
  private benchedMessage(path: string, codec: CachedCodec): string | undefined {
    const health = this.health.get(path);
    if (!health || health.mtimeMs !== codec.mtimeMs || health.size !== codec.size) return undefined;
    const left = health.benchedUntil - Date.now();
    if (left <= 0) return undefined;
    return `codec ${path} is benched for ${Math.ceil(left / 1000)} s after ${this.maxOverruns} overruns in a row (time or memory); fix the file to retry at once`;
  }

  /** Turns a sandbox reply into the codec's output object, or a message saying what went wrong. */
  private parseOutput(reply: SandboxReply, fn: string, path: string): Record<string, unknown> | string {
    if (!reply.ok) {
      if (reply.kind === 'timeout') this.stats.timeouts++;
      if (reply.kind === 'memory') this.stats.memoryFailures++;
      const what =
        reply.kind === 'timeout'
          ? `${fn} ran longer than ${this.sandbox.limits.timeLimitMs} ms and was interrupted`
          : reply.kind === 'memory'
            ? `${fn} exceeded the ${this.sandbox.limits.memoryBytes} byte memory limit`
            : reply.kind === 'stack'
              ? `${fn} overflowed its stack`
              : `${fn} failed`;
      return `${what}: ${reply.error}`;
    }
    const bytes = Buffer.byteLength(reply.output ?? '');
    if (bytes > this.maxOutputBytes) {
      this.stats.oversizeOutputs++;
      this.oversizeWarnings.warn(
        { path, fn, bytes, maxBytes: this.maxOutputBytes },
        'codec output refused: too large',
      );
      return `${fn} returned ${bytes} bytes, more than the ${this.maxOutputBytes} allowed: the uplink is kept without a decoded object; make the codec return less`;
    }
    let value: unknown;
    try {
      value = JSON.parse(reply.output ?? 'null');
    } catch {
      return `${fn} returned something that is not JSON`;
    }
    if (!isPlainObject(value))
      return `${fn} must return an object, got ${Array.isArray(value) ? 'an array' : String(value)}`;
    return value;
  }

  /** The loaded codec, or a message saying why it cannot be used. */
  private async ensureLoaded(path: string): Promise<CachedCodec | string> {
    const pending = this.loading.get(path);
    if (pending) return pending;
    const cached = this.cache.get(path);
    const now = Date.now();
    if (cached && cached.generation === this.sandbox.generation && now - cached.checkedAt < this.recheckMs) {
      return cached.loadError ?? cached;
    }
    const work = this.refresh(path, cached, now).finally(() => this.loading.delete(path));
    this.loading.set(path, work);
    return work;
  }

  private async refresh(
    path: string,
    cached: CachedCodec | undefined,
    now: number,
  ): Promise<CachedCodec | string> {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (err) {
      this.cache.delete(path);
      return `cannot read codec file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    }
    if (
      cached &&
      cached.generation === this.sandbox.generation &&
      cached.mtimeMs === info.mtimeMs &&
      cached.size === info.size
    ) {
      cached.checkedAt = now;
      return cached.loadError ?? cached;
    }
    if (info.size > this.maxSourceBytes)
      return `codec file ${path} is ${info.size} bytes, over ${this.maxSourceBytes}`;
    let source: string;
    try {
      source = await readFile(path, 'utf8');
    } catch (err) {
      return `cannot read codec file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    }
    const generation = this.sandbox.generation;
    const reply = await this.sandbox.load(path, source);
    this.stats.loads++;
    const entry: CachedCodec = { mtimeMs: info.mtimeMs, size: info.size, checkedAt: now, generation };
    if (!reply.ok) {
      this.stats.loadFailures++;
      entry.loadError = `codec ${path} failed to load: ${reply.error}`;
      this.log.warn({ path, error: reply.error }, 'codec failed to load');
      // A killed/crashed sandbox says nothing about the file: do not remember the failure.
      if (reply.kind === 'killed' || reply.kind === 'crash') return entry.loadError;
    } else {
      entry.exports = reply.exports;
      this.log.info({ path, exports: reply.exports }, cached ? 'codec reloaded' : 'codec loaded');
    }
    // The worker may have restarted during the load; then the codec is not in it any more.
    entry.generation = this.sandbox.generation === generation ? generation : -1;
    this.cache.set(path, entry);
    return entry.loadError ?? entry;
  }
}
