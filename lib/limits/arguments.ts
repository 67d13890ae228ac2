import type { Packet } from 'socket.io-parser';

/**
 * Most values one event or ack packet may carry (the event name counted): a third of the ~50,000 at which
 * Socket.IO's dispatch overflowed Node 20's default stack, and far above what any client sends (the
 * protocol's events take one payload and an ack; forwarding relays what a client sends as it is).
 */
export const MAX_PACKET_ARGUMENTS = 16_384;

/**
 * Refuses a decoded packet with too many values. Socket.IO spreads a packet's values into a call
 * (`emit.apply`): tens of thousands of them, a few hundred kilobytes under the payload limit, overflow
 * the stack in its own dispatch, an uncaught error that ends the process. Thrown from a `decoded`
 * listener that runs before Socket.IO's, the error leaves `Decoder.add` for Socket.IO's client, which
 * closes the connection as for any packet it cannot parse; the packet is never dispatched.
 */
export function refuseTooManyArguments(packet: Packet): void {
  const data: unknown = packet.data;
  if (Array.isArray(data) && data.length > MAX_PACKET_ARGUMENTS) {
    throw new Error(`a packet may carry at most ${MAX_PACKET_ARGUMENTS} values, got ${data.length}`);
  }
}
