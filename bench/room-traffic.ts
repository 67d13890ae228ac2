/**
 * The steady room workload of the flood and soak scenarios: clients JOINed to rooms of a few members,
 * each NOTIFYing its room in turn at a fixed aggregate rate (open loop), every NOTIFY with an ack, as a
 * well-behaved application would. Records each delivery's NOTIFY→EVENT time (sender and receivers share
 * this process's clock) per phase and per receiving client, and counts every error a client would see:
 * failed or missing acks, disconnects, EVENTs that never arrive.
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { clientAddress } from './addresses.js';
import { BenchClient, connectMany, readStamp, stamp } from './client.js';
import { Histogram } from './histogram.js';
import { CONNECT_CONCURRENCY, DRAIN_MS, MESSAGE_SIZE, until } from './scenarios.js';
import type { RunningServer } from './systems.js';

/** The shape and rate of the workload. */
export interface TrafficShape {
  readonly clients: number;
  readonly roomSize: number;
  /** NOTIFYs per second over all clients; each one is delivered to `roomSize - 1` others. */
  readonly notifiesPerSecond: number;
  /**
   * Whether to keep a histogram per receiving client (for {@link PhaseStats.worstClientP99}); off for
   * thousands of clients over many phases, where it would cost the generator more memory than it measures.
   */
  readonly perClient: boolean;
}

/** What one phase of the workload saw. */
export interface PhaseStats {
  /** EVENTs received for the NOTIFYs sent in the phase. */
  deliveries: number;
  /** NOTIFY→EVENT time over every delivery, ms. */
  p50: number;
  p99: number;
  max: number;
  /** The highest p99 of any single receiving client, ms (NaN without {@link TrafficShape.perClient}). */
  worstClientP99: number;
  /** EVENTs of the phase's NOTIFYs that did not arrive (counted after the final drain). */
  lost: number;
  /** Acks of the phase's NOTIFYs that were not `{ ok: true }`, or never came (after the final drain). */
  failedAcks: number;
  /** Measured clients the server disconnected during the phase. */
  disconnects: number;
  /**
   * The load generator's own event-loop delay p99 over the phase, ms: when it is high the generator, not
   * the server, is making the round trips long.
   */
  generatorLagP99: number;
}

interface Phase {
  readonly name: string;
  readonly firstSeq: number;
  lastSeq: number;
  readonly all: Histogram;
  readonly perClient: Map<number, Histogram>;
  deliveries: number;
  expected: number;
  acksOk: number;
  acksFailed: number;
  disconnects: number;
  readonly lag: IntervalHistogram;
}

const TICK_MS = 1;

/** A started workload; phases are measured back to back between {@link begin} and {@link end}. */
export class RoomTraffic {
  /** Every failed ack body seen, by code (or the whole body when it has none), for the report. */
  readonly failures = new Map<string, number>();
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly phases: Phase[] = [];
  private current: Phase;
  private stopping = false;

  private constructor(
    private readonly clients: readonly BenchClient[],
    private readonly shape: TrafficShape,
  ) {
    this.current = this.newPhase('(unmeasured)');
    clients.forEach((client, index) => {
      client.onEvent = (body) => this.onEvent(index, body);
      client.onClose = () => {
        if (!this.stopping) this.current.disconnects++;
      };
    });
  }

  /** Connects and JOINs the clients (spread over loopback addresses) and starts sending. */
  static async start(server: RunningServer, shape: TrafficShape, prefix: string): Promise<RoomTraffic> {
    const clients = await connectMany(shape.clients, CONNECT_CONCURRENCY, async (i) => {
      const client = await BenchClient.connect(server.ports[i % server.ports.length] ?? server.port, '/layout', {
        localAddress: clientAddress(i),
      });
      await client.request('JOIN', { room: `${prefix}-${Math.floor(i / shape.roomSize)}`, name: `c${i}` });
      return client;
    });
    const traffic = new RoomTraffic(clients, shape);
    traffic.run(prefix);
    return traffic;
  }

  /** Starts measuring a phase called `name`; what was sent before it is not counted. */
  begin(name: string): void {
    this.closeCurrent();
    this.current = this.newPhase(name);
    this.phases.push(this.current);
  }

  /** Stops measuring the current phase (what follows until the next {@link begin} is not counted). */
  end(): void {
    this.closeCurrent();
    this.current = this.newPhase('(unmeasured)');
  }

  /** Stops sending, waits for what is in flight (up to the drain time), closes the clients. */
  async stop(): Promise<Map<string, PhaseStats>> {
    this.closeCurrent();
    clearInterval(this.timer);
    this.stopping = true;
    const settled = (p: Phase): boolean => p.deliveries >= p.expected && p.acksOk + p.acksFailed >= p.lastSeq - p.firstSeq;
    await until(() => this.phases.every(settled), DRAIN_MS);
    await Promise.all(this.clients.map((client) => client.close()));
    return new Map(this.phases.map((phase) => [phase.name, this.statsOf(phase)]));
  }

  /** Failed acks and disconnects so far (missing EVENTs and acks are only known after {@link stop}). */
  errors(): number {
    return this.phases.reduce((sum, phase) => sum + phase.acksFailed + phase.disconnects, 0);
  }

  /** Every measured phase's NOTIFY→EVENT times together. */
  histogram(): Histogram {
    const all = new Histogram();
    for (const phase of this.phases) all.add(phase.all);
    return all;
  }

  private newPhase(name: string): Phase {
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    return {
      name,
      firstSeq: this.seq,
      lastSeq: Number.POSITIVE_INFINITY,
      all: new Histogram(),
      perClient: new Map(),
      deliveries: 0,
      expected: 0,
      acksOk: 0,
      acksFailed: 0,
      disconnects: 0,
      lag,
    };
  }

  private closeCurrent(): void {
    if (this.current.lastSeq === Number.POSITIVE_INFINITY) this.current.lastSeq = this.seq;
    this.current.lag.disable();
  }

  private phaseOf(seq: number): Phase | undefined {
    // Few phases, the newest most likely: search from the end.
    for (let i = this.phases.length - 1; i >= 0; i--) {
      const phase = this.phases[i];
      if (phase && seq >= phase.firstSeq && seq < phase.lastSeq) return phase;
    }
    return undefined;
  }

  private run(prefix: string): void {
    const { clients, roomSize, notifiesPerSecond } = this.shape;
    const start = performance.now();
    let sent = 0;
    // A timer rather than setImmediate: a spinning generator would take the CPU it shares with the
    // flooder (and with other work on a shared machine); a late tick only sends late, and each NOTIFY is
    // stamped when it leaves.
    this.timer = setInterval(() => {
      const due = Math.floor(((performance.now() - start) * notifiesPerSecond) / 1000);
      while (sent < due) {
        const index = sent++ % clients;
        this.notify(index, `${prefix}-${Math.floor(index / roomSize)}`);
      }
    }, TICK_MS);
  }

  private notify(index: number, room: string): void {
    const client = this.clients[index];
    if (!client) return;
    const seq = this.seq++;
    const phase = this.current;
    // The last room may be smaller than the others.
    const members = Math.min(this.shape.roomSize, this.shape.clients - Math.floor(index / this.shape.roomSize) * this.shape.roomSize);
    phase.expected += members - 1;
    void client.request('NOTIFY', { room, message: stamp(seq, performance.now(), MESSAGE_SIZE) }).then((body) => {
      if (body.startsWith('[{"ok":true')) {
        phase.acksOk++;
        return;
      }
      phase.acksFailed++;
      const code = /"code":"([^"]+)"/.exec(body)?.[1] ?? body;
      this.failures.set(code, (this.failures.get(code) ?? 0) + 1);
    });
  }

  private onEvent(index: number, body: string): void {
    const { seq, time } = readStamp(body, '"message":"');
    if (!(seq >= 0)) return;
    const phase = this.phaseOf(seq);
    if (!phase) return;
    const ms = performance.now() - time;
    phase.deliveries++;
    phase.all.record(ms);
    if (!this.shape.perClient) return;
    let mine = phase.perClient.get(index);
    if (!mine) {
      mine = new Histogram();
      phase.perClient.set(index, mine);
    }
    mine.record(ms);
  }

  private statsOf(phase: Phase): PhaseStats {
    let worst = this.shape.perClient ? 0 : Number.NaN;
    for (const histogram of phase.perClient.values()) worst = Math.max(worst, histogram.quantile(0.99));
    const sent = phase.lastSeq === Number.POSITIVE_INFINITY ? this.seq - phase.firstSeq : phase.lastSeq - phase.firstSeq;
    return {
      deliveries: phase.deliveries,
      p50: phase.all.quantile(0.5),
      p99: phase.all.quantile(0.99),
      max: phase.all.max,
      worstClientP99: worst,
      lost: phase.expected - phase.deliveries,
      failedAcks: phase.acksFailed + Math.max(0, sent - phase.acksOk - phase.acksFailed),
      disconnects: phase.disconnects,
      generatorLagP99: phase.lag.count > 0 ? phase.lag.percentile(99) / 1e6 : Number.NaN,
    };
  }
}
