/** Why a packet's attachments were cut off: too many bytes in all, or not all there in time. */
export type AttachmentProblem = 'too-large' | 'too-slow';

/** What {@link AttachmentBudget} bounds: bytes per packet (`--max-payload`) and the wait for them (`--attachment-timeout`, 0 = none). */
export interface AttachmentLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

/**
 * The attachments of the one binary packet a decoder is reconstructing: the bytes received so far against
 * `maxBytes`, and a deadline for the rest. socket.io-parser holds every attachment of a packet until its
 * last one arrives, bounded only in count (10): a client announcing 10 and sending 9 of up to
 * `--max-payload` each held ~9 MB for as long as it stayed connected.
 *
 * `onLate` runs once when the deadline passes with the packet incomplete; the timer does not keep the
 * process alive. One budget per decoder, reset for each packet; nothing is allocated for text packets.
 */
export class AttachmentBudget {
  readonly #limits: AttachmentLimits;
  readonly #onLate: () => void;
  #bytes = 0;
  #deadline: NodeJS.Timeout | undefined;

  constructor(limits: AttachmentLimits, onLate: () => void) {
    this.#limits = limits;
    this.#onLate = onLate;
  }

  /** A binary packet's header arrived: its attachments start counting, and their deadline runs. */
  begin(): void {
    this.end();
    if (this.#limits.timeoutMs > 0) {
      this.#deadline = setTimeout(this.#onLate, this.#limits.timeoutMs);
      this.#deadline.unref();
    }
  }

  /** Counts one attachment of `bytes`; false when the packet's attachments now exceed `maxBytes`. */
  take(bytes: number): boolean {
    this.#bytes += bytes;
    return this.#bytes <= this.#limits.maxBytes;
  }

  /** The packet is complete, refused or abandoned: nothing is counted or waited for any more. */
  end(): void {
    this.#bytes = 0;
    if (this.#deadline !== undefined) {
      clearTimeout(this.#deadline);
      this.#deadline = undefined;
    }
  }
}

/** The size of one attachment as the decoder receives it: a Buffer/ArrayBuffer, or Engine.IO 3's base64 `{ base64, data }`. */
export function attachmentSize(data: unknown): number {
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  if (typeof data === 'object' && data !== null && 'data' in data && typeof data.data === 'string') return data.data.length;
  return 0;
}
