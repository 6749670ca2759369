/** Who may change a calendar: its owner, the workspace's owners and admins, and the workspace's API keys. */
import type { Principal } from './context.js';
import { ApiError } from './errors.js';

export function assertCanManageCalendar(principal: Principal, calendar: { userId: string }): void {
  if (principal.type === 'api_key') return;
  if (principal.userId === calendar.userId || principal.role === 'owner' || principal.role === 'admin') return;
  throw new ApiError('forbidden', "only the calendar's owner or a workspace owner or admin can change it");
}
