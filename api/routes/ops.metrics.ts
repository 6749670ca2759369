import { createRoute, z } from '@hono/zod-openapi';
import type { Router } from '../context.js';

export const route = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'ops.metrics',
  tags: ['ops'],
  summary: 'Prometheus metrics',
  responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } } },
});

export function register(app: Router) {
  app.openapi(route, async (c) => {
    const { metrics } = c.var.services;
    return c.text(await metrics.metrics(), 200, { 'Content-Type': metrics.contentType });
  });
}
