/**
 * A name a client sent (an event's, a namespace's) as the service repeats it, in an `ERROR` event, a refusal
 * or a log line: cut to `maxLength` characters (and marked with `…`), so that a client sending a
 * megabyte-long name does not get it back, nor fill the logs with it.
 */
export function shownName(sent: unknown, maxLength: number): string {
  const name = String(sent);
  return name.length > maxLength ? `${name.slice(0, maxLength)}…` : name;
}

/**
 * Why an event name is refused: longer than `maxLength` (`--max-event-name`), or undefined when it is not.
 * Only the catch-all listeners (forwarding, unknown events) can see such a name: a registered listener only
 * ever receives its own.
 */
export function eventNameProblem(event: unknown, maxLength: number): string | undefined {
  return typeof event === 'string' && event.length > maxLength
    ? `event names are at most ${maxLength} characters, got ${event.length}`
    : undefined;
}
