/**
 * The contract of a small-MTU message transport (an Iridium SBD modem, or the
 * simulator's emulated message pipe). It moves opaque messages; fragmentation
 * and acknowledgement live above it (gateway/link/message-link.ts).
 */
export interface MessageTransport {
  /** Largest mobile-originated message (340 for Iridium 9602/9603). */
  readonly moMtu: number;
  /**
   * Whether spending a message now is worth it (signal present, inside a pass
   * window). Checked before every send so credits are not burnt on no signal.
   */
  isUsable(): Promise<boolean>;
  /**
   * Sends one message in one session. Resolves when the network took it;
   * rejects with MaverickError (LinkDown, LinkModem, LinkTimeout) when not.
   * Mobile-terminated messages fetched in the same session go to the handlers.
   */
  send(message: Uint8Array): Promise<void>;
  /** A session with nothing to send (mailbox check), to fetch queued MT messages. */
  poll(): Promise<void>;
  /** Registers a handler for mobile-terminated messages; returns an unsubscribe function. */
  onMessage(handler: (message: Uint8Array) => void): () => void;
}
