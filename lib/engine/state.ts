import type { Logger } from 'pino';
import type { Namespace } from 'socket.io';

/**
 * Told of each broadcast the fast path delivered: its namespace, its event name, how many local clients it
 * reached, and how many milliseconds passed from its making, on whichever node made it, to the last copy
 * written here (undefined without a stamp, see lib/engine/broadcast-stamp.ts).
 */
export type BroadcastListener = (namespace: Namespace, event: unknown, recipients: number, delayMs: number | undefined) => void;

/** The patches of lib/engine/ that are switched per Socket.IO server (sticky hand-over is not one: see README.md). */
export type PatchName = 'websocketTransport' | 'fastBroadcast' | 'connectionFootprint';

/** Every switchable patch, in the order they are reported. */
export const PATCHES: readonly PatchName[] = ['websocketTransport', 'fastBroadcast', 'connectionFootprint'];

/** What the fast broadcast needs of the transport: a direct write is only possible into a coalescing connection. */
const NEEDS: Readonly<Partial<Record<PatchName, PatchName>>> = { fastBroadcast: 'websocketTransport' };

/**
 * Which patches are on for one Socket.IO server, and why the others are not. The booleans are what the hot
 * paths test (one property read); they only ever go from on to off, when a check made on first use fails.
 */
export class EngineState {
  websocketTransport = false;
  fastBroadcast = false;
  connectionFootprint = false;
  /** Broadcast copies written straight into a recipient's socket (added once per broadcast, not per copy). */
  directWrites = 0;
  /** Told once per broadcast (never per copy), for the metrics; unset, a broadcast costs one property read more. */
  broadcastListener: BroadcastListener | undefined = undefined;
  /** Why each patch is off; absent for a patch that is on. */
  readonly reasons: Partial<Record<PatchName, string>> = {};

  constructor(private readonly log: Logger) {}

  /** Turns `patches` on, or off with `reason` for all of them. */
  set(patches: readonly PatchName[], on: boolean, reason?: string): void {
    for (const patch of patches) {
      this[patch] = on;
      if (on) delete this.reasons[patch];
      else this.reasons[patch] = reason ?? 'off';
    }
  }

  /**
   * Turns off every patch that relies on what `missing` names (and those that need it), logging one warn.
   * A patch already off stays as it is, with its first reason, and is not warned about again.
   */
  disable(problems: ReadonlyMap<PatchName, readonly string[]>, when: string): void {
    const off: Partial<Record<PatchName, readonly string[]>> = {};
    for (const [patch, missing] of problems) {
      if (missing.length === 0 || !this[patch]) continue;
      off[patch] = missing;
      this.set([patch], false, `missing: ${missing.join(', ')}`);
    }
    for (const patch of PATCHES) {
      const needed = NEEDS[patch];
      if (needed === undefined || !this[patch] || this[needed]) continue;
      off[patch] = [`the ${needed} patch`];
      this.set([patch], false, `needs the ${needed} patch, which is off (${this.reasons[needed] ?? ''})`);
    }
    const names = Object.keys(off);
    if (names.length === 0) return;
    const details = Object.entries(off)
      .map(([patch, missing]) => `${patch} needs ${missing.join(', ')}`)
      .join('; ');
    this.log.warn(
      { patches: names, missing: off },
      `${when}: ${names.join(', ')} of lib/engine/ off, running on the libraries' own path instead, because the installed libraries lack what it relies on (${details})`,
    );
  }
}

/** Where a server built by lib/engine/index.ts keeps its {@link EngineState}. */
const STATE = Symbol('realtime-rooms.engine');
type Holder = { [STATE]?: EngineState };

/** Records `state` as the patch state of `server` (a Socket.IO `Server`). */
export function attachState(server: object, state: EngineState): void {
  Object.defineProperty(server, STATE, { value: state });
}

/** The patch state of `server`, or undefined for a server lib/engine/ did not build. */
export function stateOf(server: unknown): EngineState | undefined {
  return (server as Holder | undefined)?.[STATE];
}
