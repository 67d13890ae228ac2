/** Just enough of socket.io-client 2.x's API for the legacy-client tests (the package ships no types). */
declare module 'socket.io-client-v2' {
  export interface LegacySocket {
    readonly id: string;
    readonly connected: boolean;
    on(event: string, listener: (...args: never[]) => void): LegacySocket;
    off(event: string, listener?: (...args: never[]) => void): LegacySocket;
    emit(event: string, ...args: unknown[]): LegacySocket;
    close(): LegacySocket;
    /** The socket's manager; it emits every decoded packet of every namespace as 'packet'. */
    readonly io: { on(event: 'packet', listener: (packet: { type: number; nsp: string }) => void): unknown };
  }
  export interface LegacyOptions {
    forceNew?: boolean;
    transports?: string[];
    query?: Record<string, string>;
    rejectUnauthorized?: boolean;
    reconnection?: boolean;
  }
  const io: (url: string, options?: LegacyOptions) => LegacySocket;
  export default io;
}
