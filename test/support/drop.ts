/**
 * Cutting a socket.io-client v4 connection as a network does, and steering its reconnection: the bench's
 * chaos scenario and the tests share one implementation (bench/drop.ts).
 */
export { dropConnection, reconnectTo } from '../../bench/drop.js';
