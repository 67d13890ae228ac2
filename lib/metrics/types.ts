/** What `GET /metrics` serves: the Prometheus text of one service's metrics. */
export interface MetricsSource {
  /** The `Content-Type` of {@link MetricsSource.text}'s answer (Prometheus text format 0.0.4). */
  readonly contentType: string;
  /** The current values, in Prometheus text format. */
  text(): Promise<string>;
}
