/**
 * The chaos scenario's servers: one private redis-server and two service nodes on it, real processes
 * started as bench/systems.ts starts every system, each of which can be `kill -9`ed and started again on
 * the same port. Every node serves one site with reliable delivery (jwt with a shared secret, an API key,
 * a `userRoomPrefix`), from a sites file written for the run. A node's exits are recorded: one the
 * scenario did not cause is a crash.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import {
  freePort,
  listeningMarker,
  spawnSystem,
  startRedisServer,
  stopChild,
  SYSTEMS,
  waitForListening,
  type SystemSpec,
} from './systems.js';

/** The chaos site: its namespace is `/chaos`, its user rooms `user_<n>`. */
export const CHAOS_SITE = 'chaos';
/** The site's user room prefix. */
export const USER_ROOM_PREFIX = 'user_';
/** The site's API key, for `POST /send`. */
export const CHAOS_API_KEY = 'chaos-bench-api-key';
const JWT_SECRET = 'chaos-bench-hmac-secret-of-32-bytes-or-more';
const secretKey = new TextEncoder().encode(JWT_SECRET);

/** A token for `user`, granting its user room (jwt mode, HS256, no expiry: the run is short). */
export function tokenFor(user: string): Promise<string> {
  return new SignJWT({ rooms: [`${USER_ROOM_PREFIX}${user}`] }).setProtectedHeader({ alg: 'HS256' }).setSubject(user).sign(secretKey);
}

/** Warnings and errors a node logged (pino level ≥ 40), by message. */
export type LoggedProblems = Map<string, number>;

/** How a node process ended without being told to. */
export interface Crash {
  readonly node: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One service node: its port stays the same across restarts. */
export class ChaosNode {
  #child: ChildProcess | undefined;
  /** Set while the scenario itself ends the process, so that its exit is not taken for a crash. */
  #ending = false;

  constructor(
    readonly index: number,
    readonly port: number,
    private readonly spec: SystemSpec,
    private readonly problems: LoggedProblems,
    private readonly crashes: Crash[],
  ) {}

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Whether the process is running. */
  get up(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Starts the process and resolves once it is ready (listening, reading the stream, subscribed). */
  async start(): Promise<void> {
    const child = spawnSystem(this.spec, this.port);
    this.#child = child;
    this.#ending = false;
    let rest = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) this.#read(line);
    });
    child.once('exit', (code, signal) => {
      if (!this.#ending) this.crashes.push({ node: this.index, code, signal });
    });
    await waitForListening(child, `node ${this.index}`, listeningMarker(this.spec));
  }

  /** `kill -9`: no shutdown, no goodbye to Redis or the clients. Resolves once the process is gone. */
  kill(): Promise<void> {
    const child = this.#child;
    if (!child || !this.up) return Promise.resolve();
    this.#ending = true;
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** Stops the process the ordinary way (SIGTERM). */
  stop(): Promise<void> {
    const child = this.#child;
    if (!child) return Promise.resolve();
    this.#ending = true;
    return stopChild(child);
  }

  #read(line: string): void {
    if (!line.startsWith('{')) return;
    try {
      const entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if (typeof entry.level === 'number' && entry.level >= 40) {
        const msg = typeof entry.msg === 'string' ? entry.msg : '(no message)';
        this.problems.set(msg, (this.problems.get(msg) ?? 0) + 1);
      }
    } catch {
      // A line that is not pino's JSON: not a warning.
    }
  }
}

/** Redis and the nodes of one chaos phase. */
export interface ChaosCluster {
  readonly nodes: readonly ChaosNode[];
  /** What every node logged at warn or above, over the phase, restarts included. */
  readonly problems: LoggedProblems;
  /** Exits nobody asked for. */
  readonly crashes: readonly Crash[];
  stop(): Promise<void>;
}

/**
 * Starts redis-server and `count` nodes of the service on it, with `extraArgs` (e.g. `--recovery-window 0`)
 * after the service's usual bench flags. Every limit is at its default: the clients come from many loopback
 * addresses (bench/addresses.ts), as in the flood and soak scenarios.
 */
export async function startChaosCluster(count: number, extraArgs: readonly string[]): Promise<ChaosCluster> {
  const service = SYSTEMS.find((spec) => spec.name === 'service');
  if (!service) throw new Error('no service system');
  const dir = mkdtempSync(join(tmpdir(), 'chaos-'));
  const sitesFile = join(dir, 'sites.json');
  const site = {
    auth: { mode: 'jwt', algorithms: ['HS256'], secret: JWT_SECRET },
    apiKey: CHAOS_API_KEY,
    userRoomPrefix: USER_ROOM_PREFIX,
  };
  writeFileSync(sitesFile, JSON.stringify({ sites: { [CHAOS_SITE]: site } }));
  const redis = await startRedisServer();
  const spec: SystemSpec = {
    ...service,
    args: [...service.args, '--config', sitesFile, '--redis', `redis://127.0.0.1:${redis.port}`, '--redis-prefix', 'chaos', ...extraArgs],
  };
  const problems: LoggedProblems = new Map();
  const crashes: Crash[] = [];
  const nodes: ChaosNode[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      const node = new ChaosNode(i, await freePort(), spec, problems, crashes);
      nodes.push(node);
      await node.start();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, problems, crashes, stop };
}
