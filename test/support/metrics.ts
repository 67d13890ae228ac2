import { expect } from 'chai';
import { request, type HttpTarget } from './http.js';

/** One sample of a Prometheus text answer: the metric's name, its labels and its value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the samples of a Prometheus text-format answer (comments skipped; label values without escapes, as ours are). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample: ${line}`);
    const [, name = '', body = '', value = ''] = match;
    const labels: Record<string, string> = {};
    for (const pair of body.matchAll(/(\w+)="([^"]*)"/g)) labels[pair[1] ?? ''] = pair[2] ?? '';
    samples.push({ name, labels, value: Number(value) });
  }
  return samples;
}

/** GETs `/metrics` from `target` (with `headers`), expects a 200 and answers its samples. */
export async function scrape(target: HttpTarget, headers: Record<string, string> = {}): Promise<Sample[]> {
  const res = await request(`${target.url}/metrics`, { headers });
  expect(res.status, String(res.body)).to.equal(200);
  return parseMetrics(String(res.body));
}

/** The value of the sample of `name` with exactly `labels`, or undefined when there is none. */
export function valueOf(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  const wanted = Object.entries(labels);
  const sample = samples.find(
    (candidate) =>
      candidate.name === name &&
      Object.keys(candidate.labels).length === wanted.length &&
      wanted.every(([key, value]) => candidate.labels[key] === value),
  );
  return sample?.value;
}

/** How many series `name` has. */
export function seriesCount(samples: readonly Sample[], name: string): number {
  return samples.filter((sample) => sample.name === name).length;
}
