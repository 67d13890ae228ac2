import type { Logger } from 'pino';
import type { Namespace } from 'socket.io';
import { childNamespaceProblems } from './checks.js';

/**
 * Removes the children of a parent namespace (`io.of(regexp)`) that no socket uses.
 *
 * Socket.IO creates a child (`/do-a`) for the first CONNECT naming it, before the middlewares run, and
 * keeps it: a refused CONNECT left a namespace behind, so 2,000 unauthenticated CONNECTs to distinct names
 * left 2,000 namespaces (with `--redis`, 4,000 Redis channels). Its own `cleanupEmptyChildNamespaces`
 * covers a child whose last connected socket leaves, and the refused case only by accident (a refused
 * socket is removed the same way); but it removes a child while another socket is still in its
 * middlewares (`_preConnectSockets`, an asynchronous auth), which then connects to a namespace the server
 * no longer knows: a second child of the same name gets the next client, the two never hear each other,
 * and the orphan's removal later deletes the new one's entry by name. So the service does its own:
 *
 * - a child is removed once no socket is connected to it, none is in its middlewares, no CONNECT is
 *   between its lookup and `_add` putting its socket there (counted around `_add`), and nothing holds it
 *   ({@link holdNamespace}: something that will still broadcast on it, or look a socket up through it);
 * - removed means gone from the parent's `children` and, if it is still the one of its name, from the
 *   server's `_nsps`, and its adapter closed (with `--redis` that releases its channels, see
 *   lib/cluster/redis-channels.ts); a new CONNECT to the name creates a fresh child.
 *
 * Touches Socket.IO members outside its public API (see README.md in this folder): the parent's
 * `createChild` (an own property wraps it), each child's `_add` and `_remove` (own properties), their
 * `sockets` and `_preConnectSockets`, and `server._nsps`; checked on the parent, throwing if one is missing.
 */

/** The members of a parent namespace the removal uses. */
interface ParentInternals {
  createChild(name: string): Namespace;
  readonly children: Set<Namespace>;
}

/** The members of a child namespace the removal uses. */
interface ChildInternals {
  readonly name: string;
  readonly server: { readonly _nsps: Map<string, Namespace> };
  readonly sockets: ReadonlyMap<string, unknown>;
  readonly _preConnectSockets: ReadonlyMap<string, unknown>;
  readonly adapter: { close(): Promise<void> | void };
  _add: (this: ChildInternals, client: unknown, auth: unknown, fn: unknown) => Promise<void>;
  _remove: (this: ChildInternals, socket: unknown) => void;
}

/**
 * Makes every child `parent` creates from now on go away when unused (see above). Call it right after
 * `io.of(regexp)`, before a client can connect. Throws if Socket.IO lacks what this relies on.
 */
export function removeUnusedChildren(parent: Namespace, log: Logger): void {
  const problems = childNamespaceProblems(parent);
  if (problems.length > 0)
    throw new Error(
      `the installed socket.io lacks what the removal of unused namespaces relies on: ${problems.join(', ')} (see lib/engine/README.md)`,
    );
  const internals = parent as unknown as ParentInternals;
  const createChild = internals.createChild.bind(parent);
  internals.createChild = (name) => {
    const child = createChild(name);
    watchChild(internals, child as unknown as ChildInternals, log);
    return child;
  };
}

/** The holds on each watched child ({@link holdNamespace}), and how to remove it once unused. */
const watched = new WeakMap<object, { holds: number; readonly removeIfUnused: () => void }>();

/**
 * Keeps `nsp` (a child made by a parent passed to {@link removeUnusedChildren}) from being removed while held,
 * even with no socket: something that will still broadcast on it later (a view's deferred `__disconnect__`,
 * lib/namespaces/controller-view.ts) holds it. Returns the release, which removes the child if it is then
 * unused; releasing twice releases once. A namespace that is not such a child is never removed: a no-op.
 */
export function holdNamespace(nsp: Namespace): () => void {
  const entry = watched.get(nsp);
  if (entry === undefined) return () => {};
  entry.holds += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    entry.holds -= 1;
    entry.removeIfUnused();
  };
}

function watchChild(parent: ParentInternals, child: ChildInternals, log: Logger): void {
  const add = child._add;
  const remove = child._remove;
  // CONNECTs inside `_add` before their socket is in `_preConnectSockets` (it awaits first).
  let adding = 0;
  let removed = false;
  const entry = { holds: 0, removeIfUnused: (): void => removeIfUnused() };
  watched.set(child, entry);
  const removeIfUnused = (): void => {
    if (removed || adding > 0 || entry.holds > 0 || child.sockets.size > 0 || child._preConnectSockets.size > 0) return;
    removed = true;
    parent.children.delete(child as unknown as Namespace);
    const { _nsps: namespaces } = child.server;
    if (namespaces.get(child.name) === (child as unknown as Namespace)) namespaces.delete(child.name);
    Promise.resolve(child.adapter.close()).catch((err: unknown) =>
      log.warn({ nsp: child.name, err }, 'closing the adapter of an unused namespace failed'),
    );
  };
  child._add = function (client, auth, fn) {
    adding += 1;
    return add.call(this, client, auth, fn).finally(() => {
      adding -= 1;
      removeIfUnused();
    });
  };
  child._remove = function (socket) {
    remove.call(this, socket);
    removeIfUnused();
  };
}
