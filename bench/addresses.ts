/**
 * Loopback source addresses for the load generator's connections. The service limits connections per
 * client address (how many at once, how many new ones per second); the bench's thousands of clients are
 * many users, not one, so they are spread over 127.0.0.2–127.0.0.241 (all of 127/8 reaches the loopback
 * interface on Linux) rather than measured against limits meant for a single address. The flooder uses an
 * address of its own, so that whatever the limits do to it never touches the measured clients.
 */

const FIRST = 2;
const COUNT = 240;

/** The source address for the `index`-th client of a scenario. */
export function clientAddress(index: number): string {
  return `127.0.0.${FIRST + (index % COUNT)}`;
}

/** The flooder's own source address, outside the range of {@link clientAddress}. */
export const FLOODER_ADDRESS = '127.0.0.250';
