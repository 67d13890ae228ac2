/**
 * The chaos scenario's results as a Markdown table: one column for the run with connection-state recovery,
 * one for the run with `--recovery-window 0`.
 */
import type { ReconnectCounts } from './chaos-client.js';
import type { ChaosPhase, ChaosResult } from './chaos.js';

function num(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

/** `part / whole (share %)`. */
function share(part: number, whole: number, digits = 2): string {
  return `${part} / ${whole} (${whole > 0 ? `${((100 * part) / whole).toFixed(digits)} %` : '—'})`;
}

function recovered(counts: ReconnectCounts, cause: keyof ReconnectCounts): string {
  return share(counts[cause].recovered, counts[cause].all, 1);
}

/** The warnings and errors the nodes logged, most frequent first, as `message × n`. */
function problems(phase: ChaosPhase): string {
  const entries = Object.entries(phase.problems).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return 'none';
  return entries
    .slice(0, 4)
    .map(([message, count]) => `${message.replace(/\|/g, '\\|')} × ${count}`)
    .join('; ');
}

/** The chaos scenario's table. */
export function chaosTable(result: ChaosResult): string {
  const { sizes, withRecovery: on, withoutRecovery: off } = result;
  const row = (label: string, pick: (phase: ChaosPhase) => string): string => `| ${label} | ${pick(on)} | ${pick(off)} |`;
  const seconds = (ms: number): string => num(ms / 1000, ms % 1000 === 0 ? 0 : 1);
  return [
    `| chaos: 2 nodes + Redis, ${seconds(sizes.durationMs)} s; every ${seconds(sizes.jitterEveryMs)} s ${num(sizes.dropFraction * 100)} % of the connections cut; node 2 \`kill -9\`ed at ${seconds(sizes.killAtMs)} s, back ${seconds(sizes.restartAfterMs)} s later | recovery on (default window) | \`--recovery-window 0\` |`,
    '|---|---:|---:|',
    `| **reliable delivery**: ${sizes.devices} devices, ${sizes.pushesPerSecond} \`POST /send\`/s to their user rooms | | |`,
    row('delivered / published (goal 100 %)', (p) => share(p.devices.delivered, p.devices.published)),
    row('duplicates seen by the clients before dedupe', (p) => share(p.devices.duplicates, p.devices.published, 1)),
    row('first received in a `_batch` (redelivered after a reconnect)', (p) => share(p.devices.redelivered, p.devices.published, 1)),
    row(
      'time to delivery p50 / p99 / max ms',
      (p) => `${num(p.devices.delivery.p50, 1)} / ${num(p.devices.delivery.p99)} / ${num(p.devices.delivery.max)}`,
    ),
    row('time to redelivery p99 / max ms', (p) => `${num(p.devices.redelivery.p99)} / ${num(p.devices.redelivery.max)}`),
    row('pushes sent again to the other node / refused by both', (p) => `${p.devices.retriedPushes} / ${p.devices.refusedPushes}`),
    row('messages received that no `200` answered (pushed again)', (p) => String(p.devices.unanswered)),
    row('answered without a queued device / `_resync`s', (p) => `${p.devices.unqueued} / ${p.devices.resyncs}`),
    row(
      'device reconnects after a cut / after the kill / other',
      (p) => `${p.deviceReconnects.drop.all} / ${p.deviceReconnects.kill.all} / ${p.deviceReconnects.other.all}`,
    ),
    `| **plain rooms**: ${sizes.roomClients} \`/layout\` clients in rooms of ${sizes.roomSize}, ${sizes.notifiesPerSecond} NOTIFYs/s | | |`,
    row('reconnects after a cut: `recovered: true`', (p) => recovered(p.roomReconnects, 'drop')),
    row('reconnects after the kill: `recovered: true`', (p) => recovered(p.roomReconnects, 'kill')),
    row('messages delivered (per receiver)', (p) => share(p.rooms.delivered, p.rooms.expected)),
    row(
      'of them to clients never given a new session (every reconnect recovered)',
      (p) => `${share(p.rooms.alwaysRecovered.delivered, p.rooms.alwaysRecovered.expected)}, ${p.rooms.alwaysRecovered.members} clients`,
    ),
    row(
      'missed while away after a cut, recovered / new session',
      (p) => `${p.rooms.misses.dropRecovered} / ${p.rooms.misses.dropNotRecovered}`,
    ),
    row('missed across the kill (receiver on the killed node)', (p) => String(p.rooms.misses.kill)),
    row('missed while connected', (p) => String(p.rooms.misses.connected)),
    row('NOTIFYs sent / published', (p) => `${p.rooms.sent} / ${p.rooms.published}`),
    row(
      'acked NOTIFYs that died with the killed node / unacked, received by none',
      (p) => `${p.rooms.lostWithNode} / ${p.rooms.unpublished}`,
    ),
    row('duplicates received', (p) => String(p.rooms.duplicates)),
    '| **processes** | | |',
    row('connections cut by the jitter / clients on node 2 at the kill', (p) => `${p.drops} / ${p.killedClients}`),
    row('node crashes (exits not caused by the scenario)', (p) => String(p.crashes.length)),
    row('warnings logged by the nodes', problems),
  ].join('\n');
}
