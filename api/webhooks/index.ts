/** Inbound provider webhooks (one file each): outside /v1, unauthenticated (each checks its own secret), not in the public OpenAPI document. */
import type { Router } from '../context.js';
import * as googleCalendar from './google-calendar.js';
import * as microsoftCalendar from './microsoft-calendar.js';
import * as microsoftCalendarLifecycle from './microsoft-calendar-lifecycle.js';

const WEBHOOKS = [googleCalendar, microsoftCalendar, microsoftCalendarLifecycle];

export function registerWebhooks(app: Router): void {
  for (const w of WEBHOOKS) w.register(app);
}
