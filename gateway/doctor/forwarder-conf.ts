/**
 * What the Semtech packet forwarder expects in global_conf.json, for both
 * layouts: SX1301 (Lora-net/packet_forwarder v4 + lora_gateway: `SX1301_conf`,
 * `tx_lut_0..15`) and SX1302/SX1303 (Lora-net/sx1302_hal 2.x: `SX130x_conf`,
 * `tx_gain_lut`). Used by the hardware profile tests and by `doctor` on the
 * installed file. Beyond shape, it checks the radio plan: every enabled
 * channel must sit inside its radio's receive window (loragw_hal.h
 * LGW_RF_RX_BANDWIDTH_*), and in the region's band.
 */
import { z } from 'zod';
import { getRegion } from '../../proto/regions/index.js';
import { describeIssues } from '../config/issues.js';
import { type Region, regionBandHz } from '../config/schema.js';

const int = z.number().int();
const flag = z.boolean();

const gatewayConf = z.looseObject({
  gateway_ID: z.string().regex(/^[0-9A-Fa-f]{16}$/, '16 hex characters'),
  server_address: z.string().min(1),
  serv_port_up: int.min(1).max(65535),
  serv_port_down: int.min(1).max(65535),
  keepalive_interval: int.min(1),
  stat_interval: int.min(1),
  push_timeout_ms: int.min(1),
  forward_crc_valid: flag,
  forward_crc_error: flag,
  forward_crc_disabled: flag,
});

const radio = (types: readonly [string, ...string[]]) =>
  z.looseObject({
    enable: flag,
    type: z.enum(types),
    freq: int.min(100_000_000).max(1_100_000_000),
    rssi_offset: z.number(),
    tx_enable: flag,
    tx_freq_min: int.optional(),
    tx_freq_max: int.optional(),
  });

const multiSf = z.looseObject({ enable: flag, radio: z.union([z.literal(0), z.literal(1)]), if: int });
const loraStd = multiSf.extend({
  bandwidth: z.union([z.literal(125000), z.literal(250000), z.literal(500000)]),
  spread_factor: int.min(5).max(12),
});
const fsk = multiSf.extend({ bandwidth: int.min(1), datarate: int.min(500).max(250000) });

const channels = {
  chan_multiSF_0: multiSf,
  chan_multiSF_1: multiSf,
  chan_multiSF_2: multiSf,
  chan_multiSF_3: multiSf,
  chan_multiSF_4: multiSf,
  chan_multiSF_5: multiSf,
  chan_multiSF_6: multiSf,
  chan_multiSF_7: multiSf,
  chan_Lora_std: loraStd,
  chan_FSK: fsk,
};

const sx1302Conf = z
  .looseObject({
    com_type: z.enum(['SPI', 'USB']).optional(),
    com_path: z.string().min(1).optional(),
    /** sx1302_hal 1.x name of com_path. */
    spidev_path: z.string().min(1).optional(),
    lorawan_public: flag,
    clksrc: z.union([z.literal(0), z.literal(1)]),
    radio_0: radio(['SX1250', 'SX1255', 'SX1257']).extend({
      tx_gain_lut: z
        .array(z.strictObject({ rf_power: int, pa_gain: int.min(0).max(1), pwr_idx: int.min(0).max(22) }))
        .min(1)
        .max(16)
        .optional(),
    }),
    radio_1: radio(['SX1250', 'SX1255', 'SX1257']),
    ...channels,
  })
  .refine((c) => c.com_path !== undefined || c.spidev_path !== undefined, {
    message: 'com_path (sx1302_hal 2.x) or spidev_path (1.x) is required',
  });

const txLut = z.strictObject({
  pa_gain: int.min(0).max(3),
  mix_gain: int.min(0).max(15),
  rf_power: int,
  dig_gain: int.min(0).max(3),
});
const sx1301Conf = z.looseObject({
  lorawan_public: flag,
  clksrc: z.union([z.literal(0), z.literal(1)]),
  radio_0: radio(['SX1255', 'SX1257']),
  radio_1: radio(['SX1255', 'SX1257']),
  ...channels,
  tx_lut_0: txLut,
});

const sx1302File = z.looseObject({ SX130x_conf: sx1302Conf, gateway_conf: gatewayConf });
const sx1301File = z.looseObject({ SX1301_conf: sx1301Conf, gateway_conf: gatewayConf });

export type ForwarderChip = 'sx1301' | 'sx1302';
export type ForwarderGatewayConf = z.infer<typeof gatewayConf>;

export interface ForwarderConfReport {
  chip: ForwarderChip | undefined;
  /** Empty when the file is fine. */
  problems: string[];
  gatewayConf?: ForwarderGatewayConf;
  /** Centre frequencies (Hz) of the enabled receive channels. */
  channelsHz: number[];
}

/** Half of the radio's usable receive span for a channel of this bandwidth (loragw_hal.h of each HAL). */
function halfWindowHz(chip: ForwarderChip, bandwidthHz: number): number {
  if (chip === 'sx1302') return 1_600_000 / 2;
  if (bandwidthHz >= 500_000) return 1_100_000 / 2;
  if (bandwidthHz >= 250_000) return 1_000_000 / 2;
  return 925_000 / 2;
}

interface ChannelLike {
  enable: boolean;
  radio: 0 | 1;
  if: number;
  bandwidth?: number;
}

/** Validates a parsed global_conf.json; `region` adds the band check. Never throws. */
export function checkForwarderConf(json: unknown, region?: Region): ForwarderConfReport {
  const isSx1302 = typeof json === 'object' && json !== null && 'SX130x_conf' in json;
  const isSx1301 = typeof json === 'object' && json !== null && 'SX1301_conf' in json;
  if (isSx1302 === isSx1301) {
    return {
      chip: undefined,
      problems: ['the file must hold exactly one of SX130x_conf (SX1302/SX1303) or SX1301_conf (SX1301)'],
      channelsHz: [],
    };
  }
  const chip: ForwarderChip = isSx1302 ? 'sx1302' : 'sx1301';
  const schema = isSx1302 ? sx1302File : sx1301File;
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return {
      chip,
      problems: describeIssues(schema, json, parsed.error.issues).map((p) => p.text),
      channelsHz: [],
    };
  }
  const conf = isSx1302
    ? (parsed.data as z.infer<typeof sx1302File>).SX130x_conf
    : (parsed.data as z.infer<typeof sx1301File>).SX1301_conf;
  const problems: string[] = [];
  const channelsHz: number[] = [];
  const radios = [conf.radio_0, conf.radio_1];
  const band = region ? regionBandHz(region) : undefined;
  for (const name of Object.keys(channels) as (keyof typeof channels)[]) {
    const channel = conf[name] as ChannelLike;
    if (!channel.enable) continue;
    const rf = radios[channel.radio];
    const bandwidth = channel.bandwidth ?? 125_000;
    if (!rf.enable) {
      problems.push(`${name}: uses radio_${channel.radio}, which is disabled`);
      continue;
    }
    const limit = halfWindowHz(chip, bandwidth);
    if (Math.abs(channel.if) + bandwidth / 2 > limit) {
      problems.push(
        `${name}: if ${channel.if} with ${bandwidth / 1000} kHz bandwidth leaves radio_${channel.radio}'s window of ±${limit} Hz`,
      );
    }
    const centre = rf.freq + channel.if;
    channelsHz.push(centre);
    if (band && (centre - bandwidth / 2 < band[0] || centre + bandwidth / 2 > band[1])) {
      problems.push(`${name}: ${centre} Hz is outside the ${region} band ${band[0]}..${band[1]} Hz`);
    }
  }
  if (region) {
    // Devices of the plan use every channel the network gives them: the forwarder must hear each one.
    const missing = getRegion(region)
      .uplinkChannels.map((c) => c.frequencyHz)
      .filter((hz) => !channelsHz.includes(hz));
    if (missing.length > 0) {
      problems.push(
        `no channel on ${missing.map((hz) => `${hz / 1e6} MHz`).join(', ')}, where ${region} devices send (use the ${region} profile, or move the radios' freq onto its sub-band)`,
      );
    }
  }
  const tx = conf.radio_0;
  if (tx.tx_enable) {
    if (tx.tx_freq_min === undefined || tx.tx_freq_max === undefined || tx.tx_freq_min >= tx.tx_freq_max) {
      problems.push('radio_0: tx_enable needs tx_freq_min < tx_freq_max');
    } else if (band && (tx.tx_freq_min < band[0] || tx.tx_freq_max > band[1])) {
      problems.push(
        `radio_0: transmit range ${tx.tx_freq_min}..${tx.tx_freq_max} Hz leaves the ${region} band`,
      );
    }
  }
  return { chip, problems, gatewayConf: parsed.data.gateway_conf, channelsHz };
}
