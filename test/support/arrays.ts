// With noUncheckedIndexedAccess a destructured element may be undefined; these check it once, loudly.

/** The first element of an array that must have one. */
export function one<T>(items: readonly T[]): T {
  const [a] = items;
  if (a === undefined) throw new Error('expected an item');
  return a;
}

/** The first two elements of an array that must have them. */
export function two<T>(items: readonly T[]): [T, T] {
  const [a, b] = items;
  if (a === undefined || b === undefined) throw new Error('expected two items');
  return [a, b];
}

/** The first three elements of an array that must have them. */
export function three<T>(items: readonly T[]): [T, T, T] {
  const [a, b] = two(items);
  const c = items[2];
  if (c === undefined) throw new Error('expected three items');
  return [a, b, c];
}

/** How often each value occurs in `values`. */
export function tally(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
