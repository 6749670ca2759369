/** One Prometheus registry per process: Node's defaults plus Notula's domain metrics. */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    botsActive: new Gauge({ name: 'notula_bots_active', help: 'Bots running in this process', labelNames: ['platform'], registers: [registry] }),
    botJoinSeconds: new Histogram({
      name: 'notula_bot_join_seconds',
      help: 'From launch to the lobby or the call',
      labelNames: ['platform', 'outcome'],
      buckets: [1, 2, 5, 10, 20, 30, 60, 120],
      registers: [registry],
    }),
    botExits: new Counter({ name: 'notula_bot_exits_total', help: 'Bots that ended, by sub_code', labelNames: ['platform', 'sub_code'], registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
