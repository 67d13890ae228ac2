import { createRequire } from 'node:module';
import type { Server } from 'socket.io';
import type * as SocketIoParser from 'socket.io-parser';
import type { Packet } from 'socket.io-parser';
import { refuseTooManyArguments } from './arguments.js';
import { AttachmentBudget, attachmentSize, type AttachmentLimits, type AttachmentProblem } from './attachments.js';

/** What the decoder needs of its Engine.IO connection: its session id (for the report) and how to close it. */
export interface DecodedConnection {
  readonly id: string;
  close(): void;
}

/** Who is told of a connection cut for its attachments. */
export type AttachmentCutReport = (conn: DecodedConnection, problem: AttachmentProblem) => void;

/** Socket.IO's `parser` option, bounded, and the step that ties each connection to its decoder. */
export interface BoundedParser {
  /** For Socket.IO's `parser` option: socket.io-parser's encoder, and its decoder with the bounds. */
  readonly parser: { readonly Encoder: typeof SocketIoParser.Encoder; readonly Decoder: typeof SocketIoParser.Decoder };
  /**
   * Ties each new connection of `io` to the decoder Socket.IO makes for it, so that a decoder can close
   * its connection when a packet's attachments are late. Call right after the server is created.
   */
  bindTo(io: Server): void;
}

/**
 * socket.io-parser's CommonJS build, the one Socket.IO itself requires. An ESM import resolves, under Node,
 * to its `esm-debug` build, which evaluates the arguments of a `debug()` call at every step of every packet
 * it encodes or decodes, logging on or off: about a tenth of the parser's time in a connect-path profile.
 */
const { Decoder, Encoder } = createRequire(import.meta.url)('socket.io-parser') as typeof SocketIoParser;

/** Socket.IO packet types (the first character of a packet) whose attachments follow: BINARY_EVENT and BINARY_ACK. */
const BINARY_TYPES = new Set(['5', '6']);

/**
 * socket.io-parser, with its decoder bounded: at most `MAX_PACKET_ARGUMENTS` values per packet
 * (see arguments.ts), and per binary packet at most `limits.maxBytes` of attachments in all (the
 * connection is closed as for any packet the parser refuses) and `limits.timeoutMs` for its missing
 * attachments (then the decoder closes its connection). Either way the attachments held are released
 * at once, and `report` is told.
 *
 * The decoder does not know its connection: Socket.IO makes one in its engine `connection` listener
 * (`new Client(server, conn)` makes `new parser.Decoder()`), so a listener registered after Socket.IO's
 * claims the decoder made last. Made per server: two services in one process keep their decoders apart.
 */
export function boundedParser(limits: AttachmentLimits, report: AttachmentCutReport): BoundedParser {
  /** The decoder Socket.IO made for the connection being set up, until that connection claims it. */
  const made: { unclaimed?: BoundedDecoder | undefined } = {};

  class BoundedDecoder extends Decoder {
    #conn: DecodedConnection | undefined;
    /** Made at the first binary packet: most connections never send one, and an idle one costs nothing for it. */
    #attachments: AttachmentBudget | undefined;

    /** One listener for every decoder (the emitter calls it with the decoder as `this`): nothing per connection. */
    static readonly #onDecoded = function (this: BoundedDecoder, packet: Packet): void {
      this.#attachments?.end();
      refuseTooManyArguments(packet);
    };

    constructor() {
      super();
      made.unclaimed = this;
      // Registered in the constructor, so before the `decoded` listener Socket.IO adds.
      this.on('decoded', BoundedDecoder.#onDecoded);
    }

    claim(conn: DecodedConnection): void {
      this.#conn = conn;
    }

    override add(data: unknown): void {
      if (typeof data === 'string') {
        super.add(data);
        // Accepted without being emitted: a binary packet's header, waiting for its attachments.
        if (BINARY_TYPES.has(data.charAt(0))) {
          this.#attachments ??= new AttachmentBudget(limits, () => this.#cut('too-slow'));
          this.#attachments.begin();
        }
        return;
      }
      if (this.#attachments?.take(attachmentSize(data)) === false) {
        this.#cut('too-large');
        // Socket.IO's client closes the connection on what `add` throws.
        throw new Error(`the attachments of a packet may add up to at most ${limits.maxBytes} bytes`);
      }
      super.add(data);
    }

    override destroy(): void {
      this.#attachments?.end();
      super.destroy();
    }

    /** Drops the packet being reconstructed (its buffers with it) and reports why; a late one also closes the connection. */
    #cut(problem: AttachmentProblem): void {
      this.destroy();
      const conn = this.#conn;
      if (conn === undefined) return;
      report(conn, problem);
      if (problem === 'too-slow') conn.close();
    }
  }

  return {
    parser: { Encoder, Decoder: BoundedDecoder },
    bindTo(io) {
      // After Socket.IO's own listener, which made the connection's decoder.
      io.engine.on('connection', (conn: DecodedConnection) => {
        const decoder = made.unclaimed;
        made.unclaimed = undefined;
        decoder?.claim(conn);
      });
    },
  };
}
