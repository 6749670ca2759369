/** Every route of the API, one file each. */
import type { RouteDeps, Router } from '../context.js';
import * as apiKeysCreate from './api-keys.create.js';
import * as apiKeysDelete from './api-keys.delete.js';
import * as apiKeysList from './api-keys.list.js';
import * as authLogin from './auth.login.js';
import * as authLogout from './auth.logout.js';
import * as authMe from './auth.me.js';
import * as authRefresh from './auth.refresh.js';
import * as authRegister from './auth.register.js';
import * as authTotpEnable from './auth.totp-enable.js';
import * as authTotpSetup from './auth.totp-setup.js';
import * as botsCreate from './bots.create.js';
import * as botsDebug from './bots.debug.js';
import * as botsDelete from './bots.delete.js';
import * as botsDeleteData from './bots.delete-data.js';
import * as botsGet from './bots.get.js';
import * as botsLeave from './bots.leave.js';
import * as botsList from './bots.list.js';
import * as botsLive from './bots.live.js';
import * as botsRecording from './bots.recording.js';
import * as botsTranscript from './bots.transcript.js';
import * as calendarEventsList from './calendar-events.list.js';
import * as calendarEventsUpdate from './calendar-events.update.js';
import * as calendarsCallback from './calendars.callback.js';
import * as calendarsConnect from './calendars.connect.js';
import * as calendarsDelete from './calendars.delete.js';
import * as calendarsList from './calendars.list.js';
import * as calendarsUpdate from './calendars.update.js';
import * as botsAnalytics from './bots.analytics.js';
import * as botsDocumentsCreate from './bots.documents.create.js';
import * as botsDocumentsDelete from './bots.documents.delete.js';
import * as botsDocumentsGet from './bots.documents.get.js';
import * as botsDocumentsList from './bots.documents.list.js';
import * as botsNotesCreate from './bots.notes.create.js';
import * as botsNotesDelete from './bots.notes.delete.js';
import * as botsNotesExport from './bots.notes.export.js';
import * as botsNotesList from './bots.notes.list.js';
import * as botsNotesUpdate from './bots.notes.update.js';
import * as botsSummaryGet from './bots.summary.get.js';
import * as botsSummaryRegenerate from './bots.summary.regenerate.js';
import * as botsSummaryUpdate from './bots.summary.update.js';
import * as search from './search.js';
import * as opsHealth from './ops.health.js';
import * as opsMetrics from './ops.metrics.js';
import * as webhookEndpointsCreate from './webhook-endpoints.create.js';
import * as webhookEndpointsDelete from './webhook-endpoints.delete.js';
import * as webhookEndpointsDeliveries from './webhook-endpoints.deliveries.js';
import * as webhookEndpointsGet from './webhook-endpoints.get.js';
import * as webhookEndpointsList from './webhook-endpoints.list.js';
import * as webhookEndpointsRedeliver from './webhook-endpoints.redeliver.js';
import * as webhookEndpointsRotateSecret from './webhook-endpoints.rotate-secret.js';
import * as webhookEndpointsUpdate from './webhook-endpoints.update.js';
import * as workspaceProvidersDelete from './workspace-providers.delete.js';
import * as workspaceProvidersList from './workspace-providers.list.js';
import * as workspaceProvidersPut from './workspace-providers.put.js';
import * as workspaceSettingsGet from './workspace-settings.get.js';
import * as workspaceSettingsPut from './workspace-settings.put.js';

const ROUTES = [
  opsHealth,
  opsMetrics,
  authRegister,
  authLogin,
  authRefresh,
  authLogout,
  authMe,
  authTotpSetup,
  authTotpEnable,
  apiKeysCreate,
  apiKeysList,
  apiKeysDelete,
  botsCreate,
  botsList,
  botsGet,
  botsLeave,
  botsDelete,
  botsTranscript,
  botsRecording,
  botsDeleteData,
  botsDebug,
  botsLive,
  webhookEndpointsCreate,
  webhookEndpointsList,
  webhookEndpointsGet,
  webhookEndpointsUpdate,
  webhookEndpointsDelete,
  webhookEndpointsRotateSecret,
  webhookEndpointsDeliveries,
  webhookEndpointsRedeliver,
  calendarsConnect,
  calendarsCallback,
  calendarsList,
  calendarsUpdate,
  calendarsDelete,
  calendarEventsList,
  calendarEventsUpdate,
  workspaceProvidersList,
  workspaceProvidersPut,
  workspaceProvidersDelete,
  workspaceSettingsGet,
  workspaceSettingsPut,
  botsSummaryGet,
  botsSummaryUpdate,
  botsSummaryRegenerate,
  botsAnalytics,
  // export before the {noteId} routes
  botsNotesExport,
  botsNotesList,
  botsNotesCreate,
  botsNotesUpdate,
  botsNotesDelete,
  botsDocumentsList,
  botsDocumentsCreate,
  botsDocumentsGet,
  botsDocumentsDelete,
  search,
];

export function registerRoutes(app: Router, deps: RouteDeps): void {
  for (const r of ROUTES) r.register(app, deps);
}
