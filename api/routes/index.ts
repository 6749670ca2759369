/** Every route of the API, one file each. */
import type { Router } from '../context.js';
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
import * as botsRecording from './bots.recording.js';
import * as botsTranscript from './bots.transcript.js';
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

export function registerRoutes(app: Router): void {
  for (const r of ROUTES) r.register(app);
}
