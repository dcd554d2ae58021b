/**
 * A virtual serial cable for tests and the demo: the host side is a binding for
 * @serialport/stream built on @serialport/binding-mock, the device side is a
 * plain Duplex an emulator attaches to. Bytes the host writes come out of the
 * device side; bytes written to the device side arrive at the host's port.
 * `unplug()` fails the host's pending read like a yanked USB adapter, so the
 * backend's reconnect path runs exactly as with real hardware.
 */
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import { ErrorCode, MaverickError } from '../proto/errors.js';
import type {
  BindingInterface,
  BindingPortInterface,
  MockBinding as MockBindingValue,
  MockPortBinding,
  OpenOptions,
  PortInfo,
  PortStatus,
  SetOptions,
  UpdateOptions,
} from './serial-concentrator-binding-types.cjs';

// Loaded through require so the value and the CommonJS typings above describe the same module instance.
const require = createRequire(import.meta.url);
const { MockBinding } = require('@serialport/binding-mock') as { MockBinding: typeof MockBindingValue };

let linkCounter = 0;

function unpluggedError(): Error {
  return Object.assign(new MaverickError(ErrorCode.RadioSerialOpen, 'mock serial cable unplugged'), {
    disconnect: true,
  });
}

export interface MockSerialLink {
  /** The path the host opens. */
  readonly path: string;
  /** Pass as `binding` to SerialPortStream / the serial backends. */
  readonly binding: BindingInterface;
  /** The device end of the cable. */
  readonly deviceSide: Duplex;
  /** Simulates pulling the cable: the open port errors out and opening fails until `replug()`. */
  unplug(): void;
  replug(): void;
  /** True while the host has the port open. */
  readonly hostOpen: boolean;
}

class LinkedPort implements BindingPortInterface {
  private failRead: ((err: Error) => void) | undefined;
  private unplugged = false;

  constructor(
    private readonly inner: MockPortBinding,
    private readonly toDevice: (bytes: Buffer) => void,
    private readonly onClosed: () => void,
  ) {}

  get openOptions(): Required<OpenOptions> {
    return this.inner.openOptions;
  }
  get isOpen(): boolean {
    return this.inner.isOpen;
  }
  set isOpen(v: boolean) {
    this.inner.isOpen = v;
  }

  emitData(bytes: Buffer): void {
    if (this.inner.isOpen) this.inner.emitData(bytes);
  }

  /** Rejects the pending read with a non-cancel error: @serialport/stream treats that as a disconnect. */
  disconnect(): void {
    this.unplugged = true;
    const fail = this.failRead;
    this.failRead = undefined;
    fail?.(unpluggedError());
  }

  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    // A read that starts after the unplug fails too: the stream may be between two reads when the cable goes.
    if (this.unplugged) return Promise.reject(unpluggedError());
    return new Promise((resolve, reject) => {
      this.failRead = reject;
      this.inner.read(buffer, offset, length).then(resolve, reject);
    });
  }
  async write(buffer: Buffer): Promise<void> {
    await this.inner.write(buffer);
    this.toDevice(Buffer.from(buffer));
  }
  async close(): Promise<void> {
    await this.inner.close();
    this.onClosed();
  }
  update(options: UpdateOptions): Promise<void> {
    return this.inner.update(options);
  }
  set(options: SetOptions): Promise<void> {
    return this.inner.set(options);
  }
  get(): Promise<PortStatus> {
    return this.inner.get();
  }
  getBaudRate(): Promise<{ baudRate: number }> {
    return this.inner.getBaudRate();
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  drain(): Promise<void> {
    return this.inner.drain();
  }
}

/** Creates a fresh cable with a unique mock path (mock ports are process-global). */
export function createMockSerialLink(name = 'maverick'): MockSerialLink {
  const path = `/dev/mock-${name}-${process.pid}-${++linkCounter}`;
  MockBinding.createPort(path, { echo: false, record: false });
  let port: LinkedPort | undefined;
  let plugged = true;

  const deviceSide = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, done) {
      port?.emitData(chunk); // bytes sent while nobody has the port open are lost, like on a wire
      done();
    },
  });

  const binding: BindingInterface = {
    list: (): Promise<PortInfo[]> => MockBinding.list(),
    async open(options: OpenOptions): Promise<BindingPortInterface> {
      // The text serialport's native binding gives for a missing device.
      if (!plugged)
        throw new MaverickError(
          ErrorCode.RadioSerialOpen,
          `Error: ENOENT: no such file or directory, open '${options.path}'`,
        );
      const inner = await MockBinding.open(options);
      const linked = new LinkedPort(
        inner,
        (bytes) => deviceSide.push(bytes),
        () => {
          if (port === linked) port = undefined;
        },
      );
      port = linked;
      return linked;
    },
  };

  return {
    path,
    binding,
    deviceSide,
    get hostOpen() {
      return port?.isOpen ?? false;
    },
    unplug() {
      plugged = false;
      port?.disconnect();
    },
    replug() {
      plugged = true;
    },
  };
}
