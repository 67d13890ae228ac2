/**
 * Every deadline of the suite, derived from one setting.
 *
 * A deadline only bounds a test that is failing anyway: a passing test never waits for one. So they are
 * generous on purpose, sized for a developer's machine that is busy with something else (a build, a
 * browser, another test run), not for an idle one. Where a machine is slower still (an emulator, a
 * sanitizer, a CI runner shared by many jobs), `TEST_DEADLINE_SCALE=3 npm test` multiplies all of them,
 * mocha's own timeout included; nothing else needs changing.
 *
 * Tests never pass a number of milliseconds of their own to a wait: they use these, or {@link scaled}.
 */

/** `TEST_DEADLINE_SCALE`, a positive number; 1 when unset. */
export const DEADLINE_SCALE: number = readScale(process.env.TEST_DEADLINE_SCALE);

function readScale(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 1;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`TEST_DEADLINE_SCALE must be a positive number, got '${raw}'`);
  return scale;
}

/** `ms` times {@link DEADLINE_SCALE}: for a wait or a wall-clock margin that has no constant of its own here. */
export function scaled(ms: number): number {
  return Math.ceil(ms * DEADLINE_SCALE);
}

/** Anything in the test's own process: an event, an ack, a connect, an HTTP response, a server's own timer. */
export const DEADLINE_MS = scaled(5_000);

/**
 * A CLI child process to log a line (its 'listening on …' line above all) or to exit. A child compiles
 * server.ts with tsx and may generate an RSA key before it does anything; `--workers 2` starts three
 * such processes, which takes 8 s on an idle two-core machine.
 */
export const CHILD_DEADLINE_MS = scaled(45_000);

/** An in-process cluster node to become ready: connect to Redis, subscribe, see its first stream entry. */
export const READY_DEADLINE_MS = scaled(15_000);

/** A redis-server process to start accepting connections, or to exit after SIGKILL. */
export const REDIS_DEADLINE_MS = scaled(15_000);

/** server.ts's graceful shutdown bound: past it the process exits 1 (so a test checks the exit code, not the clock). */
export const SHUTDOWN_BOUND_MS = 5_000;

/** Waiting for a process to exit after SIGTERM, or its clients to be disconnected: its own bound, then some. */
export const SHUTDOWN_DEADLINE_MS = SHUTDOWN_BOUND_MS + DEADLINE_MS;

/**
 * Mocha's timeout for one test and for the teardown after it (set in hooks.ts). Above the sum of the
 * child waits of the longest test (three processes started or stopped one after the other), so that a
 * stuck test is reported by the deadline that names what it waited for, not by mocha.
 */
export const TEST_TIMEOUT_MS = 4 * CHILD_DEADLINE_MS;
