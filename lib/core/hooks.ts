import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import type { ErrorCode } from '../../protocol/index.js';
import type { HookEvents, HookScope, InboundMiddleware, LimitHit, LostMember, ServiceHooks } from './types.js';

type Subscriber<E extends keyof HookEvents> = { readonly listener: HookEvents[E]; readonly namespace: string | undefined };
type Subscribers = { [E in keyof HookEvents]: Subscriber<E>[] };

/** The shared `disconnect` listener (Socket.IO calls it with the socket as `this`): no closure per connection. */
const dispatcherOf = new WeakMap<Socket, HookDispatcher>();
function onDisconnect(this: Socket, reason: string): void {
  dispatcherOf.get(this)?.disconnected(this, reason);
}

/**
 * The hooks of one service: subscribers register through {@link ServiceHooks}, and the places where things
 * happen (the namespace mounts, the room helpers, the cluster backend) call the dispatching methods.
 * With no subscriber a hook costs an empty loop and allocates nothing: nothing is registered per socket
 * for a hook nobody listens to.
 */
export class HookDispatcher implements ServiceHooks {
  readonly #subscribers: Subscribers = { connection: [], join: [], leave: [], disconnect: [], lostMembers: [], limited: [], failure: [] };
  readonly #inbound: InboundMiddleware[] = [];
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  on<E extends keyof HookEvents>(event: E, listener: HookEvents[E], scope: HookScope = {}): void {
    (this.#subscribers[event] as Subscriber<E>[]).push({ listener, namespace: scope.namespace });
  }

  use(middleware: InboundMiddleware): void {
    this.#inbound.push(middleware);
  }

  /** Whether the inbound chain has a step: callers skip {@link inbound} (and its call) otherwise. */
  get hasInbound(): boolean {
    return this.#inbound.length > 0;
  }

  /** Runs the inbound chain for one event; throws what a step throws (a `RequestError` refuses the event). */
  inbound(socket: Socket, event: string, args: readonly unknown[]): void {
    for (const step of this.#inbound) step(socket, event, args);
  }

  /**
   * Call once per socket, when its handshake is done and before it may send requests. The disconnect
   * listener goes on first, so that a connection subscriber that disconnects the socket at once (a
   * connection limit) is still followed by the disconnect subscribers.
   */
  connected(socket: Socket): void {
    const namespace = socket.nsp.name;
    if (this.#wants('disconnect', namespace)) {
      dispatcherOf.set(socket, this);
      socket.on('disconnect', onDisconnect);
    }
    for (const subscriber of this.#subscribers.connection) {
      if (covers(subscriber, namespace)) this.#guard('connection', subscriber.listener, socket);
    }
  }

  /** Call just before `socket.join(key)`. */
  joining(socket: Socket, room: string, key: string): void {
    for (const subscriber of this.#subscribers.join) {
      if (covers(subscriber, socket.nsp.name)) this.#guard('join', subscriber.listener, socket, room, key);
    }
  }

  /** Call just after `socket.leave(key)`. */
  left(socket: Socket, room: string, key: string): void {
    for (const subscriber of this.#subscribers.leave) {
      if (covers(subscriber, socket.nsp.name)) this.#guard('leave', subscriber.listener, socket, room, key);
    }
  }

  /** Called by the shared disconnect listener. */
  disconnected(socket: Socket, reason: string): void {
    for (const subscriber of this.#subscribers.disconnect) {
      if (covers(subscriber, socket.nsp.name)) this.#guard('disconnect', subscriber.listener, socket, reason);
    }
  }

  /** Called by the cluster backend for the members of a dead node that this node took over. */
  lost(members: readonly LostMember[]): void {
    for (const subscriber of this.#subscribers.lostMembers) this.#guard('lostMembers', subscriber.listener, members);
  }

  /**
   * Called wherever a limit is hit. A subscriber scoped to a namespace gets only the hits of that
   * namespace's sockets; connection-level hits (no namespace) go to unscoped subscribers only.
   */
  limited(hit: LimitHit): void {
    for (const subscriber of this.#subscribers.limited) {
      if (subscriber.namespace === undefined || subscriber.namespace === hit.namespace) this.#guard('limited', subscriber.listener, hit);
    }
  }

  /** Called by the reply path for every failed request, with the code its ack or `ERROR` carries. */
  failed(socket: Socket, code: ErrorCode): void {
    for (const subscriber of this.#subscribers.failure) {
      if (covers(subscriber, socket.nsp.name)) this.#guard('failure', subscriber.listener, socket, code);
    }
  }

  /** Whether a subscriber of `event` covers `namespace`. */
  #wants(event: keyof HookEvents, namespace: string): boolean {
    for (const subscriber of this.#subscribers[event]) if (covers(subscriber, namespace)) return true;
    return false;
  }

  /** A failing subscriber is a bug of its feature: logged, and it never breaks the connection or the others. */
  #guard<E extends keyof HookEvents>(event: E, listener: HookEvents[E], ...args: Parameters<HookEvents[E]>): void {
    try {
      (listener as (...values: Parameters<HookEvents[E]>) => void)(...args);
    } catch (err) {
      this.#log.error({ err, hook: event }, 'hook subscriber failed');
    }
  }
}

function covers(subscriber: { readonly namespace: string | undefined }, namespace: string): boolean {
  return subscriber.namespace === undefined || subscriber.namespace === namespace;
}
