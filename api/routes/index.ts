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
import * as opsHealth from './ops.health.js';
import * as opsMetrics from './ops.metrics.js';
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
  workspaceProvidersList,
  workspaceProvidersPut,
  workspaceProvidersDelete,
  workspaceSettingsGet,
  workspaceSettingsPut,
];

export function registerRoutes(app: Router): void {
  for (const r of ROUTES) r.register(app);
}
