/**
 * The reliable-delivery half of the chaos scenario: devices of a site with a `userRoomPrefix` (one user
 * and one deviceId each, `messageIds: true`) spread over the nodes, and a backend that pushes to their
 * user rooms through `POST /send` at a steady rate, to the nodes in turn (the other one when a node does
 * not answer, as a backend behind a load balancer would retry). Each device acks every message and every
 * `_batch` at once, dedupes by `_id` and counts what it saw twice before the dedupe.
 */
import { performance } from 'node:perf_hooks';
import type { Socket } from 'socket.io-client';
import type {
  BatchEntry,
  DeliveryAck,
  MessageMeta,
  PushResult,
  SiteClientToServerEvents,
  SiteServerToClientEvents,
} from '../protocol/index.js';
import { clientAddress } from './addresses.js';
import { ChaosClient, type ReconnectTiming } from './chaos-client.js';
import { CHAOS_API_KEY, CHAOS_SITE, tokenFor, USER_ROOM_PREFIX } from './chaos-nodes.js';
import { Histogram } from './histogram.js';

/** What the backend pushes: its sequence number and when it was pushed (this process's clock, ms). */
interface Tick {
  readonly n: number;
  readonly t: number;
}

/** The site's one event, as a `messageIds` device receives it. */
interface ChaosEvents {
  tick: (tick: Tick, meta: MessageMeta, ack: DeliveryAck) => void;
}

type DeviceSocket = Socket<SiteServerToClientEvents & ChaosEvents, SiteClientToServerEvents>;

/** A published push: what `POST /send` answered 200 with a queued device for. */
interface Published {
  readonly device: number;
  readonly t: number;
}

/** A device's first receipt of an id. */
interface Receipt {
  readonly at: number;
  readonly inBatch: boolean;
}

/** One device and what it received. */
interface Device {
  readonly client: ChaosClient<DeviceSocket>;
  /** Ids received: when first, and whether in a `_batch`. */
  readonly seen: Map<string, Receipt>;
}

/** What the devices saw. */
export interface DeviceStats {
  devices: number;
  /** Pushes answered `200` with `queued: 1`. */
  published: number;
  /** Of those, the ids their device received at least once. */
  delivered: number;
  /** Receipts of an id the device already had: what the dedupe removed. */
  duplicates: number;
  /** Ids received that no `200` answered (a push in flight when its node died, queued before it did, then sent again). */
  unanswered: number;
  /** Pushes sent again to the other node because a node did not answer (down, or dying mid-request). */
  retriedPushes: number;
  /** Pushes that failed on both nodes: not published. */
  refusedPushes: number;
  /** Pushes answered with `queued: 0` (the device unknown): should not happen. */
  unqueued: number;
  /** First receipts that came in a `_batch` (pending across a reconnect), of {@link delivered}. */
  redelivered: number;
  /** Push → first receipt, ms, over every published message. */
  delivery: Quantiles;
  /** Push → first receipt, ms, of the {@link redelivered} ones: the time to redelivery. */
  redelivery: Quantiles;
  resyncs: number;
}

/** p50, p99 and max of a histogram, ms (NaN when empty). */
export interface Quantiles {
  p50: number;
  p99: number;
  max: number;
}

function quantiles(histogram: Histogram): Quantiles {
  return { p50: histogram.quantile(0.5), p99: histogram.quantile(0.99), max: histogram.count ? histogram.max : Number.NaN };
}

/** The counters of {@link DeviceStats}, with the histograms they summarise. */
type Counters = Omit<DeviceStats, 'delivery' | 'redelivery'> & { delivery: Histogram; redelivery: Histogram };

/** How the device workload runs. */
export interface DeviceShape {
  readonly devices: number;
  readonly pushesPerSecond: number;
  readonly timing: ReconnectTiming;
}

/** The started device workload. */
export class DeviceTraffic {
  readonly #published = new Map<string, Published>();
  readonly #stats: Counters;
  #timer: NodeJS.Timeout | undefined;
  #inFlight = 0;

  private constructor(
    readonly devices: readonly Device[],
    private readonly urls: readonly string[],
    private readonly shape: DeviceShape,
  ) {
    this.#stats = {
      devices: devices.length,
      published: 0,
      delivered: 0,
      duplicates: 0,
      unanswered: 0,
      retriedPushes: 0,
      refusedPushes: 0,
      unqueued: 0,
      redelivered: 0,
      delivery: new Histogram(),
      redelivery: new Histogram(),
      resyncs: 0,
    };
  }

  /** Connects the devices, alternating the nodes, and waits until each has connected. */
  static async start(urls: readonly string[], shape: DeviceShape, connectMs: number): Promise<DeviceTraffic> {
    const devices: Device[] = [];
    const traffic = new DeviceTraffic(devices, urls, shape);
    for (let i = 0; i < shape.devices; i++) {
      const client = new ChaosClient<DeviceSocket>(urls, `/${CHAOS_SITE}`, i % urls.length, shape.timing, {
        auth: { token: await tokenFor(`u${i}`), deviceId: `device-${i}`, messageIds: true },
        localAddress: clientAddress(i),
      });
      const device: Device = { client, seen: new Map() };
      devices.push(device);
      traffic.#listen(device);
    }
    try {
      await Promise.all(devices.map((device) => device.client.firstConnect(connectMs)));
    } catch (err) {
      traffic.close();
      throw err;
    }
    return traffic;
  }

  /** Starts pushing at the shape's rate, round-robin over the devices' users. */
  run(): void {
    const start = performance.now();
    let sent = 0;
    this.#timer = setInterval(() => {
      const due = Math.floor(((performance.now() - start) * this.shape.pushesPerSecond) / 1000);
      for (; sent < due; sent++) void this.#push(sent, sent % this.devices.length);
    }, 5);
  }

  /** Stops pushing and waits for the pushes in flight. */
  async stopPushing(deadlineMs: number): Promise<void> {
    clearInterval(this.#timer);
    const deadline = performance.now() + deadlineMs;
    while (this.#inFlight > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  /** Whether every published message has reached its device. */
  allDelivered(): boolean {
    return this.#stats.delivered === this.#stats.published;
  }

  /** The figures; call once pushing stopped and the drain is over. */
  stats(): DeviceStats {
    let unanswered = 0;
    for (const device of this.devices) for (const id of device.seen.keys()) if (!this.#published.has(id)) unanswered++;
    return { ...this.#stats, unanswered, delivery: quantiles(this.#stats.delivery), redelivery: quantiles(this.#stats.redelivery) };
  }

  /** Every device's client (for the jitter). */
  clients(): ChaosClient<DeviceSocket>[] {
    return this.devices.map((device) => device.client);
  }

  close(): void {
    clearInterval(this.#timer);
    for (const device of this.devices) device.client.close();
  }

  #listen(device: Device): void {
    const { socket } = device.client;
    socket.on('tick', (_tick, meta, ack) => {
      this.#receive(device, meta, false);
      ack();
    });
    socket.on('_batch', (entries: BatchEntry[], ack) => {
      for (const entry of entries) {
        const meta = entry.at(-1);
        if (isMeta(meta)) this.#receive(device, meta, true);
      }
      ack();
    });
    socket.on('_resync', () => this.#stats.resyncs++);
  }

  #receive(device: Device, meta: MessageMeta, inBatch: boolean): void {
    const now = performance.now();
    if (device.seen.has(meta._id)) {
      this.#stats.duplicates++;
      return;
    }
    const receipt: Receipt = { at: now, inBatch };
    device.seen.set(meta._id, receipt);
    this.#count(meta._id, receipt);
  }

  /** Counts a first receipt of a published id (an answer may come after the message: {@link #answered} counts it then). */
  #count(id: string, receipt: Receipt): void {
    const published = this.#published.get(id);
    if (!published) return;
    this.#stats.delivered++;
    const ms = receipt.at - published.t;
    this.#stats.delivery.record(ms);
    if (receipt.inBatch) {
      this.#stats.redelivered++;
      this.#stats.redelivery.record(ms);
    }
  }

  async #push(n: number, index: number): Promise<void> {
    this.#inFlight++;
    const t = performance.now();
    const body = JSON.stringify({ rooms: [`${USER_ROOM_PREFIX}u${index}`], event: 'tick', args: [{ n, t } satisfies Tick] });
    const first = n % this.urls.length;
    try {
      for (let attempt = 0; attempt < this.urls.length; attempt++) {
        if (attempt > 0) this.#stats.retriedPushes++;
        const answer = await postSend(this.urls[(first + attempt) % this.urls.length] ?? '', body);
        if (answer) return this.#answered(answer, index, t);
      }
      this.#stats.refusedPushes++;
    } finally {
      this.#inFlight--;
    }
  }

  #answered(answer: PushResult, index: number, t: number): void {
    if (!answer.queued || answer.id === undefined) {
      this.#stats.unqueued++;
      return;
    }
    this.#published.set(answer.id, { device: index, t });
    this.#stats.published++;
    const device = this.devices[index];
    // The message may have arrived before the answer did.
    const receipt = device?.seen.get(answer.id);
    if (receipt) this.#count(answer.id, receipt);
  }
}

function isMeta(value: unknown): value is MessageMeta {
  return typeof value === 'object' && value !== null && typeof (value as { _id?: unknown })._id === 'string';
}

/** `POST /send` to the chaos site on `url`: the answer of a `200`, or undefined for anything else (a refused or cut connection included). */
async function postSend(url: string, body: string): Promise<PushResult | undefined> {
  try {
    const response = await fetch(`${url}/send?site=${CHAOS_SITE}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CHAOS_API_KEY}`, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(5000),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      return undefined;
    }
    return (await response.json()) as PushResult;
  } catch {
    return undefined;
  }
}
