/**
 * A null-modem cable in memory: two duplex streams where what one writes the
 * other reads, for wiring the SBD modem driver to its emulator without a
 * serial port.
 */
import { Duplex } from 'node:stream';

export function createSerialPair(): [Duplex, Duplex] {
  let a: Duplex | undefined;
  let b: Duplex | undefined;
  const make = (peer: () => Duplex | undefined) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        // Next tick, like a real port: a writer never re-enters its own reader.
        setImmediate(() => {
          peer()?.push(chunk);
          callback();
        });
      },
    });
  a = make(() => b);
  b = make(() => a);
  return [a, b];
}
