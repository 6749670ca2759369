/**
 * The script the local SDK page runs next to the Meeting SDK (Client View, `ZoomMtg`). It
 * prepares the SDK, and on `__notulaZoom.start(args)` (called by the adapter through
 * page.evaluate, so the signature never appears in a URL) runs init → join, and folds the
 * SDK's events into one JSON state, `window.__notulaZoomState`, that the adapter reads.
 *
 * Event meanings (SDK 6.2.0 `index.d.ts` and bundle, Zoom's Meeting SDK docs,
 * research/platform-mechanics.md §3.3):
 * - onJoinSpeed `{level}`: 4 waiting for the host to start, 5 host started, 6 in the waiting
 *   room, 7 out of the waiting room, 8 joined the meeting server, 13 started joining
 *   computer audio, 14 audio joined. Audio starts only once the bot is admitted, so 13/14
 *   mean "in the call" (Attendee relies on 13 for the same reason); 8 alone does not,
 *   because the waiting room lives inside the meeting connection.
 * - onMeetingStatus `{meetingStatus}`: 1 connecting, 2 connected, 3 disconnected (left,
 *   ended, or failed), 4 reconnecting.
 * - onUserLeave with a `reasonCode` and no other user's id is about the bot itself:
 *   1 host ended the meeting, 2/3/4 the bot left, 5 moved to another device, 6 removed
 *   from the meeting, 7 removed from the waiting room, 8 declined a disclaimer.
 * - onUserIsInWaitingRoom `{self, isInWaitingRoom, userId}` (sent 1.5 s late).
 * - join's error callback `{errorCode, errorMessage}`: 3008 "meeting has not started" is
 *   retried every 15 s (the bot waits for the host as in a waiting room); 1 (general
 *   failure) is retried twice, 10 s apart (join's rate limit); anything else is final. The adapter maps codes to sub_codes.
 *
 * The state is mirrored into sessionStorage so the SDK's redirect to leaveUrl (`/left`,
 * same origin) keeps the reason the call ended. Kept as source text, like the Meet probe, so
 * no bundler helper leaks into the page.
 */
export const ZOOM_SDK_BRIDGE = String.raw`(function () {
  'use strict';
  var KEY = 'notula-zoom-state';
  var LEFT_PAGE = location.pathname === '/left';
  var retryMs = { general: 10000, notStarted: 15000 };  // ZoomMtg.join is rate-limited to one call per 10 s
  var MAX_GENERAL_RETRIES = 2;
  var DISCONNECT_GRACE_MS = 3000;   // a failed join reports status 3 and its error in either order
  var IN_CALL_LEVELS = [13, 14];
  var NOT_STARTED = 3008;
  var GENERAL_FAILURE = 1;

  var state = {
    phase: 'loading',
    sdkLoaded: false,
    started: false,
    joined: false,
    meetingStatus: null,
    disconnectedAt: null,
    joinSpeed: [],
    waitingRoom: false,
    waitingForHost: false,
    audioStarted: false,
    everInCall: false,
    error: null,
    end: null,
    selfId: null,
    participants: {},
    speakers: [],
    joinAttempts: 0,
    leaving: false,
    leftPage: LEFT_PAGE,
    isolated: self.crossOriginIsolated === true,
    notes: []
  };
  var joinArgs = null;   // kept in this closure only: it holds the signature
  var retryTimer = null;
  var generalRetries = 0;

  function note(msg) {
    state.notes.push(String(msg).slice(0, 300));
    if (state.notes.length > 20) state.notes.shift();
  }

  function derive() {
    var s = state;
    if (s.error && s.error.final) return 'failed';
    if (s.end) return 'ended';
    if (s.meetingStatus === 3 && (s.everInCall || Date.now() - s.disconnectedAt >= DISCONNECT_GRACE_MS)) return 'ended';
    if (s.leftPage) return 'ended';
    if (s.waitingRoom) return 'waiting_room';
    if (s.waitingForHost) return 'waiting_for_host';
    if (s.meetingStatus === 4 && s.everInCall) return 'reconnecting';
    if (s.audioStarted && s.meetingStatus !== 3) return 'in_call';
    if (s.started) return 'joining';
    return s.sdkLoaded ? 'ready' : 'loading';
  }

  function update() {
    state.phase = derive();
    if (state.phase === 'in_call' && !state.everInCall) {
      state.everInCall = true;
      refreshPeople();
    }
    persist();
  }

  function persist() {
    try { sessionStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* storage full or disabled */ }
  }

  function list(data) {
    if (Array.isArray(data)) return data;
    return data && typeof data === 'object' ? [data] : [];
  }

  function upsert(user) {
    if (!user || user.userId === undefined || user.userId === null) return;
    var id = String(user.userId);
    var name = user.userName || user.displayName || (state.participants[id] && state.participants[id].name) || '';
    state.participants[id] = { userId: user.userId, name: String(name), isHost: user.isHost === true };
  }

  function refreshPeople() {
    try {
      ZoomMtg.getCurrentUser({ success: function (res) {
        var me = res && res.result && res.result.currentUser;
        if (me && me.userId !== undefined) { state.selfId = me.userId; upsert(me); update(); }
      } });
      ZoomMtg.getAttendeeslist({ success: function (res) {
        var people = res && res.result && res.result.attendeesList;
        list(people).forEach(upsert);
        update();
      } });
    } catch (e) { note('attendee list: ' + e); }
  }

  function isAboutSelf(d) {
    return d && d.reasonCode !== undefined && (d.userId === undefined || d.userId === null || d.userId === state.selfId);
  }

  function on(event, handle) {
    try {
      ZoomMtg.inMeetingServiceListener(event, function (data) {
        try { handle(data); } catch (e) { note(event + ': ' + e); }
        update();
      });
    } catch (e) { note('listener ' + event + ': ' + e); }
  }

  function listen() {
    on('onJoinSpeed', function (d) {
      var level = d && typeof d.level === 'number' ? d.level : null;
      if (level === null) return;
      state.joinSpeed.push(level);
      if (state.joinSpeed.length > 40) state.joinSpeed.shift();
      if (level === 4) state.waitingForHost = true;
      if (level === 5) state.waitingForHost = false;
      if (level === 6) state.waitingRoom = true;
      if (level === 7) state.waitingRoom = false;
      if (IN_CALL_LEVELS.indexOf(level) >= 0) { state.audioStarted = true; state.waitingForHost = false; }
    });
    on('onMeetingStatus', function (d) {
      var status = d && (d.meetingStatus !== undefined ? d.meetingStatus : d.status);
      if (typeof status !== 'number') return;
      state.meetingStatus = status;
      if (status === 3) state.disconnectedAt = Date.now();
      if (status === 2) state.waitingForHost = false;
    });
    on('onUserIsInWaitingRoom', function (d) {
      if (d && d.self === true) state.waitingRoom = d.isInWaitingRoom === true;
    });
    on('onUserJoin', function (d) { list(d).forEach(upsert); });
    on('onUserUpdate', function (d) {
      list(d).forEach(function (u) { if (u && state.participants[String(u.userId)]) upsert(u); });
    });
    on('onUserLeave', function (d) {
      if (isAboutSelf(d)) {
        state.end = { reasonCode: d.reasonCode, reason: String(d.reason || '') };
        return;
      }
      list(d).forEach(function (u) { if (u && u.userId !== undefined) delete state.participants[String(u.userId)]; });
    });
    on('onActiveSpeaker', function (d) {
      state.speakers = list(d).filter(function (u) { return u && (u.userName || u.userId !== undefined); })
        .map(function (u) { return { userId: u.userId, name: String(u.userName || '') }; });
    });
  }

  function errorOf(res) {
    var code = res && typeof res.errorCode === 'number' ? res.errorCode : -1;
    var message = String((res && (res.errorMessage || res.reason)) || 'unknown error');
    return { code: code, message: message };
  }

  function fail(where, res) {
    var err = errorOf(res);
    err.where = where;
    err.final = true;
    if (where === 'join' && err.code === NOT_STARTED) {
      err.final = false;
      state.waitingForHost = true;
      scheduleJoin(retryMs.notStarted);
    } else if (where === 'join' && err.code === GENERAL_FAILURE && generalRetries < MAX_GENERAL_RETRIES) {
      generalRetries += 1;
      err.final = false;
      scheduleJoin(retryMs.general);
    }
    state.error = err;
    update();
  }

  function scheduleJoin(ms) {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = setTimeout(function () { retryTimer = null; join(); }, ms);
  }

  function join() {
    if (state.leaving || state.end) return;
    state.joinAttempts += 1;
    var a = joinArgs;
    var args = {
      signature: a.signature,
      meetingNumber: a.meetingNumber,
      passWord: a.passWord,
      userName: a.userName,
      success: function () {
        state.joined = true;
        if (state.error && !state.error.final) state.error = null;
        try { ZoomMtg.getCurrentUser({ success: function (res) {
          var me = res && res.result && res.result.currentUser;
          if (me && me.userId !== undefined) { state.selfId = me.userId; update(); }
        } }); } catch (e) { note('current user: ' + e); }
        update();
      },
      error: function (res) { fail('join', res); }
    };
    ['userEmail', 'tk', 'zak', 'obfToken'].forEach(function (k) { if (a[k]) args[k] = a[k]; });
    try { ZoomMtg.join(args); } catch (e) { fail('join', { errorCode: -1, errorMessage: String(e) }); }
    update();
  }

  function start(a) {
    if (state.started) throw new Error('the Meeting SDK join already started on this page');
    if (!state.sdkLoaded) throw new Error('the Meeting SDK is not loaded');
    joinArgs = a;
    if (a.retryMs) retryMs = { general: a.retryMs.general, notStarted: a.retryMs.notStarted };
    state.started = true;
    var init = {
      leaveUrl: location.origin + '/left',
      patchJsMedia: true,
      leaveOnPageUnload: true,
      disablePreview: true,
      enableWaitingRoomPreview: false,
      disableInvite: true,
      disableCallOut: true,
      disableRecord: true,
      disableZoomPhone: true,
      defaultView: 'speaker',
      success: function () { join(); },
      error: function (res) { fail('init', res); }
    };
    if (a.webEndpoint) init.webEndpoint = a.webEndpoint;
    try { ZoomMtg.init(init); } catch (e) { fail('init', { errorCode: -1, errorMessage: String(e) }); }
    update();
  }

  function leave() {
    state.leaving = true;
    if (retryTimer) clearTimeout(retryTimer);
    return new Promise(function (resolve) {
      var done = function () { update(); resolve(true); };
      try { ZoomMtg.leaveMeeting({ confirm: false, success: done, error: done }); } catch (e) { done(); }
      setTimeout(done, 3000);
    });
  }

  function chat(text) {
    return new Promise(function (resolve) {
      if (state.phase !== 'in_call' || typeof ZoomMtg.sendChat !== 'function') return resolve(false);
      var settled = false;
      var settle = function (ok) { if (!settled) { settled = true; resolve(ok); } };
      try {
        ZoomMtg.sendChat({ message: text, success: function () { settle(true); }, error: function (res) { note('chat: ' + errorOf(res).message); settle(false); } });
      } catch (e) { note('chat: ' + e); settle(false); }
      setTimeout(function () { settle(false); }, 5000);
    });
  }

  function boot() {
    if (LEFT_PAGE) {
      try {
        var saved = JSON.parse(sessionStorage.getItem(KEY) || 'null');
        if (saved && typeof saved === 'object') { for (var k in saved) state[k] = saved[k]; }
      } catch (e) { note('saved state: ' + e); }
      state.leftPage = true;
      update();
      return;
    }
    sessionStorage.removeItem(KEY);
    if (typeof window.ZoomMtg !== 'object' || !window.ZoomMtg) {
      state.error = { where: 'load', code: -1, message: 'the Meeting SDK script did not load', final: true };
      update();
      return;
    }
    try {
      ZoomMtg.setZoomJSLib(location.origin + '/sdk/lib', '/av');
      ZoomMtg.preLoadWasm();
      ZoomMtg.prepareWebSDK();
      if (ZoomMtg.i18n && typeof ZoomMtg.i18n.load === 'function') {
        ZoomMtg.i18n.load('en-US');
        if (typeof ZoomMtg.i18n.reload === 'function') ZoomMtg.i18n.reload('en-US');
      }
    } catch (e) {
      state.error = { where: 'prepare', code: -1, message: String(e), final: true };
      update();
      return;
    }
    listen();
    state.sdkLoaded = true;
    update();
  }

  window.__notulaZoom = { start: start, leave: leave, chat: chat };
  Object.defineProperty(window, '__notulaZoomState', { get: function () { state.phase = derive(); return JSON.parse(JSON.stringify(state)); } });
  setInterval(update, 500);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
`;
