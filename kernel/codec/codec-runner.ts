/**
 * One entry point for payload codecs: picks Cayenne LPP, a sandboxed JS codec
 * or none from a device profile's CodecRef. Never throws for bad payloads or
 * bad codecs: everything ends up in `errors` and in the counters.
 */

import { isMaverickError } from '../../proto/errors.js';
import type { Logger } from '../../proto/log.js';
import { decodeCayenneLpp, encodeCayenneLpp } from './cayenne-lpp.js';
import { JsCodecHost, type JsCodecOptions } from './js-codec.js';
import type { CodecRef, CodecResult, EncodeResult, UplinkInput } from './types.js';

export interface CodecRunnerOptions extends JsCodecOptions {
  logger?: Logger;
}

export interface CodecRunnerCounters {
  cayenneDecodes: number;
  cayenneDecodeFailures: number;
  cayenneEncodes: number;
  cayenneEncodeFailures: number;
  js: ReturnType<JsCodecHost['counters']>;
}

export class CodecRunner {
  private readonly js: JsCodecHost;
  private cayenneDecodes = 0;
  private cayenneDecodeFailures = 0;
  private cayenneEncodes = 0;
  private cayenneEncodeFailures = 0;

  constructor(options: CodecRunnerOptions = {}) {
    this.js = new JsCodecHost(options);
  }

  async decodeUplink(ref: CodecRef, input: UplinkInput): Promise<CodecResult> {
    switch (ref.kind) {
      case 'none':
        return { warnings: [], errors: [] };
      case 'cayenne-lpp': {
        this.cayenneDecodes++;
        const result = decodeCayenneLpp(input.bytes);
        if (result.errors.length > 0) this.cayenneDecodeFailures++;
        return result;
      }
      case 'js':
        return this.js.decodeUplink(ref.path, input);
    }
  }

  async encodeDownlink(ref: CodecRef, data: Record<string, unknown>): Promise<EncodeResult> {
    switch (ref.kind) {
      case 'none':
        return { warnings: [], errors: ['this device has no codec: send data (base64), not object'] };
      case 'cayenne-lpp':
        this.cayenneEncodes++;
        try {
          return { bytes: encodeCayenneLpp(data), warnings: [], errors: [] };
        } catch (err) {
          this.cayenneEncodeFailures++;
          if (isMaverickError(err)) return { warnings: [], errors: [err.message] };
          throw err;
        }
      case 'js':
        return this.js.encodeDownlink(ref.path, data);
    }
  }

  counters(): CodecRunnerCounters {
    return {
      cayenneDecodes: this.cayenneDecodes,
      cayenneDecodeFailures: this.cayenneDecodeFailures,
      cayenneEncodes: this.cayenneEncodes,
      cayenneEncodeFailures: this.cayenneEncodeFailures,
      js: this.js.counters(),
    };
  }

  /** Stops the codec sandbox's worker thread. */
  close(): Promise<void> {
    return this.js.close();
  }
}
