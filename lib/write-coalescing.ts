import { Socket as NetSocket } from 'node:net';
import { transports } from 'engine.io';
import type { Packet } from 'engine.io-parser';

/**
 * Per-turn write coalescing for WebSocket connections.
 *
 * Most of a delivery's cost is the kernel write path: Engine.IO writes every frame of every packet with
 * its own write, and its transport then stays unwritable until that write's callback, so a socket that
 * receives several broadcasts in one event-loop turn pays one syscall per frame. This transport corks
 * the TCP socket on the first send of a turn and keeps accepting packets into it, then uncorks every
 * such socket once at the end of the turn (setImmediate): all frames for one client leave in one write.
 *
 * Frames are still written complete and in order, so the wire is unchanged; only their grouping into
 * TCP writes differs. Back-pressure is unchanged too: a slow client's bytes queue in its socket instead
 * of in Engine.IO's write buffer.
 */
const WebSocketTransport = transports.websocket;
type EngineRequest = ConstructorParameters<typeof WebSocketTransport>[0];

const corked = new Set<NetSocket>();
let uncorkScheduled = false;

function uncorkAll(): void {
  uncorkScheduled = false;
  for (const socket of corked) socket.uncork();
  corked.clear();
}

class CoalescingWebSocket extends WebSocketTransport {
  private readonly tcp: NetSocket | undefined;

  constructor(req: EngineRequest) {
    super(req);
    const raw: unknown = req.websocket?._socket;
    this.tcp = raw instanceof NetSocket ? raw : undefined;
  }

  override send(packets: Packet[]): void {
    const tcp = this.tcp;
    if (!tcp || tcp.destroyed) {
      super.send(packets);
      return;
    }
    if (!corked.has(tcp)) {
      tcp.cork();
      corked.add(tcp);
      if (!uncorkScheduled) {
        uncorkScheduled = true;
        setImmediate(uncorkAll);
      }
    }
    super.send(packets);
    // The socket is corked until the end of the turn: later packets of this turn join the same write.
    this.writable = true;
  }
}

let installed = false;

/**
 * Makes every Engine.IO server in this process use the coalescing WebSocket transport. Engine.IO looks
 * transports up by name in this shared table when a connection arrives, so installing once suffices.
 */
export function installWriteCoalescing(): void {
  if (installed) return;
  installed = true;
  transports.websocket = CoalescingWebSocket;
}
