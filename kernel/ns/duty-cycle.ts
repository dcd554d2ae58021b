/**
 * Duty-cycle bookkeeping for the gateway's own transmissions. EU868 limits each
 * sub-band to a fraction of airtime (ETSI EN 300 220, as tabled in RP002-1.0.x
 * §2.1.3); we sum time on air per sub-band over a sliding hour.
 */

export interface SubBand {
  minHz: number;
  maxHz: number;
  /** Fraction of time allowed on air, e.g. 0.1 for 10 %. */
  dutyCycle: number;
}

const WINDOW_MS = 3_600_000;

export class DutyCycleTracker {
  private readonly used = new Map<number, { atMs: number; airMs: number }[]>();

  constructor(
    private readonly subBands: readonly SubBand[],
    private readonly now: () => number = Date.now,
  ) {}

  /** The index of the sub-band holding this frequency, or -1 when none limits it. */
  subBandOf(frequencyHz: number): number {
    return this.subBands.findIndex((b) => frequencyHz >= b.minHz && frequencyHz <= b.maxHz);
  }

  /** Whether sending `airMs` on this frequency now keeps the sub-band within its duty cycle. */
  allows(frequencyHz: number, airMs: number): boolean {
    const band = this.subBandOf(frequencyHz);
    if (band < 0) return true;
    const limit = (this.subBands[band]?.dutyCycle ?? 1) * WINDOW_MS;
    return this.usedMs(band) + airMs <= limit;
  }

  record(frequencyHz: number, airMs: number): void {
    const band = this.subBandOf(frequencyHz);
    if (band < 0) return;
    let list = this.used.get(band);
    if (!list) {
      list = [];
      this.used.set(band, list);
    }
    list.push({ atMs: this.now(), airMs });
  }

  /** What was sent in the last hour, per sub-band: what a restart must not forget. */
  entries(): Record<string, [number, number][]> {
    const out: Record<string, [number, number][]> = {};
    for (const band of this.used.keys()) {
      this.usedMs(band);
      const list = this.used.get(band) ?? [];
      if (list.length > 0) out[String(band)] = list.map((e) => [e.atMs, e.airMs]);
    }
    return out;
  }

  /** Takes back entries() of an earlier run (entries older than the window fall away on use). */
  restore(entries: Record<string, [number, number][]>): void {
    for (const [band, list] of Object.entries(entries)) {
      const index = Number(band);
      if (!Number.isInteger(index) || index < 0 || index >= this.subBands.length) continue;
      const valid = list.filter(
        ([atMs, airMs]) => Number.isFinite(atMs) && Number.isFinite(airMs) && airMs >= 0,
      );
      this.used.set(
        index,
        valid.map(([atMs, airMs]) => ({ atMs, airMs })).sort((a, b) => a.atMs - b.atMs),
      );
    }
  }

  /** Airtime used in the last hour on a sub-band, in ms. */
  usedMs(band: number): number {
    const list = this.used.get(band);
    if (!list) return 0;
    const since = this.now() - WINDOW_MS;
    while (list.length > 0 && (list[0]?.atMs ?? 0) < since) list.shift();
    return list.reduce((sum, e) => sum + e.airMs, 0);
  }
}
