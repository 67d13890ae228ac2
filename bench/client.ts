/**
 * A lightweight load-generator client: a raw WebSocket speaking Engine.IO v4 / Socket.IO framing, so
 * that thousands of them fit in one process and the generator does not become the bottleneck. Events are
 * handed over as their undecoded JSON text; receivers pick out the few characters they need.
 */
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { connectPacket, eventPacket, parseFrame } from './framing.js';

/** How long a client may take from TCP connect to the namespace's connect packet. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Called with the raw JSON array text of each event, e.g. `["EVENT",{...}]`. */
export type EventHandler = (body: string) => void;

/** How a client connects. */
export interface ConnectOptions {
  /** The source address (see addresses.ts); the system's default when absent. */
  readonly localAddress?: string;
  /** Appended to the handshake URL, e.g. `&token=…`. */
  readonly query?: string;
  /** How long the connect may take before it fails with a {@link ConnectTimeoutError}; 10 s when absent. */
  readonly timeoutMs?: number;
}

/** A connect that was not answered in time (the TCP handshake, the upgrade or the namespace connect). */
export class ConnectTimeoutError extends Error {}

/** One connected namespace socket. */
export class BenchClient {
  /** The socket id the server assigned (from the namespace connect packet). */
  id = '';
  onEvent: EventHandler | undefined;
  /** Called when the server (or the network) ends a connected client; never for {@link close}. */
  onClose: ((code: number) => void) | undefined;
  /** The client side of the TCP connection (source address and port), known once the server accepted it. */
  localAddress = '';
  localPort = 0;
  private closing = false;
  private nextAckId = 1;
  private readonly acks = new Map<number, (body: string) => void>();

  private constructor(
    private readonly ws: WebSocket,
    readonly nsp: string,
  ) {}

  /** Opens a WebSocket-only Engine.IO connection to `port` and connects to namespace `nsp`. */
  static connect(port: number, nsp: string, options: ConnectOptions = {}): Promise<BenchClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket${options.query ?? ''}`, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    const client = new BenchClient(ws, nsp);
    ws.once('upgrade', (response: IncomingMessage) => {
      client.localAddress = response.socket.localAddress ?? '';
      client.localPort = response.socket.localPort ?? 0;
    });
    const timeoutMs = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      // A connection the server drops or never answers fails the run, rather than hanging it.
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new ConnectTimeoutError(`${nsp}: not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const onClose = (code: number): void => {
        clearTimeout(timer);
        reject(new Error(`${nsp}: connection closed (${code}) before the namespace connected`));
      };
      ws.once('close', onClose);
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      ws.on('message', (data: Buffer) => {
        const frame = data.toString();
        // Hot path first: events and acks of the connected namespace.
        const packet = parseFrame(frame);
        switch (packet.kind) {
          case 'event':
            client.onEvent?.(packet.body);
            break;
          case 'ack': {
            const done = client.acks.get(packet.ackId);
            client.acks.delete(packet.ackId);
            done?.(packet.body);
            break;
          }
          case 'open':
            ws.send(connectPacket(nsp));
            break;
          case 'ping':
            ws.send('3');
            break;
          case 'connect': {
            const match = /"sid":"([^"]+)"/.exec(packet.body);
            client.id = match?.[1] ?? '';
            clearTimeout(timer);
            ws.off('close', onClose);
            ws.once('close', (code: number) => {
              if (!client.closing) client.onClose?.(code);
            });
            resolve(client);
            break;
          }
          default:
            break;
        }
      });
    });
  }

  /** Emits an event without an ack. */
  emit(...args: unknown[]): void {
    this.ws.send(eventPacket(this.nsp, args));
  }

  /** Emits a pre-encoded packet text (built once by the caller). */
  sendRaw(packet: string): void {
    this.ws.send(packet);
  }

  /** Emits an event with an ack and resolves with the ack's JSON text. */
  request(...args: unknown[]): Promise<string> {
    const id = this.nextAckId++;
    return new Promise((resolve) => {
      this.acks.set(id, resolve);
      this.ws.send(eventPacket(this.nsp, args, id));
    });
  }

  /** Resolves when the connection is closed. */
  close(): Promise<void> {
    this.closing = true;
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.terminate();
    });
  }
}

/** Connects `count` clients with at most `concurrency` handshakes in flight, then runs `setup` on each. */
export async function connectMany(
  count: number,
  concurrency: number,
  open: (index: number) => Promise<BenchClient>,
): Promise<BenchClient[]> {
  const clients: BenchClient[] = new Array<BenchClient>(count);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < count) {
      const index = next++;
      clients[index] = await open(index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return clients;
}

/**
 * Reads `<seq>|<time>|` right after `marker` in an event body without JSON-decoding it.
 * Returns -1 for seq when the marker is absent.
 */
export function readStamp(body: string, marker: string): { seq: number; time: number } {
  const start = body.indexOf(marker);
  if (start < 0) return { seq: -1, time: 0 };
  const from = start + marker.length;
  const bar1 = body.indexOf('|', from);
  const bar2 = body.indexOf('|', bar1 + 1);
  return { seq: Number(body.slice(from, bar1)), time: Number(body.slice(bar1 + 1, bar2)) };
}

/** A `<seq>|<time>|` stamp padded to `size` characters. */
export function stamp(seq: number, time: number, size: number): string {
  const head = `${seq}|${time.toFixed(3)}|`;
  return head.length >= size ? head : head + 'x'.repeat(size - head.length);
}
