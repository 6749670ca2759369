/*
 * A stand-in for the Meeting SDK's Client View (`window.ZoomMtg`, @zoom/meetingsdk 6.2.0)
 * for offline tests. It has the API surface Notula's bridge uses — setZoomJSLib,
 * preLoadWasm, prepareWebSDK, i18n, init, join, inMeetingServiceListener, getCurrentUser,
 * getAttendeeslist, sendChat, leaveMeeting — with the SDK's argument and callback shapes.
 * What Zoom's servers would do comes from the test, through the fake Zoom control server
 * (../server.ts, whose origin is this script's `?control=` parameter): join reports its
 * arguments and what the page sees (isolation, headers) there, then replays the events the
 * server streams (listener events, the join callback, the attendee list).
 */
(function () {
  'use strict';
  var script = document.currentScript;
  var control = new URL(script.src).searchParams.get('control');
  var listeners = {};
  var calls = [];
  var initArgs = null;
  var joinCallbacks = null;
  var attendees = [];
  var currentUser = null;
  var session = null;

  function record(name) { calls.push(name); }
  function post(path, body) {
    // text/plain keeps it a simple request (no preflight); the server allows any origin.
    return fetch(control + path, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(body) })
      .then(function (r) { return r.json(); });
  }
  function fire(event, data) {
    (listeners[event] || []).forEach(function (fn) { fn(data); });
  }
  function plain(o) {
    var out = {};
    Object.keys(o || {}).forEach(function (k) { if (typeof o[k] !== 'function') out[k] = o[k]; });
    return out;
  }
  function headersOf(url) {
    return fetch(url, { cache: 'no-store' }).then(function (r) {
      return {
        coop: r.headers.get('cross-origin-opener-policy'),
        coep: r.headers.get('cross-origin-embedder-policy'),
        corp: r.headers.get('cross-origin-resource-policy')
      };
    });
  }

  function handle(msg) {
    if (msg.type === 'listener') fire(msg.event, msg.data);
    else if (msg.type === 'attendees') attendees = msg.list;
    else if (msg.type === 'current-user') currentUser = msg.user;
    else if (msg.type === 'join-result' && joinCallbacks) {
      if (msg.ok) joinCallbacks.success({ method: 'join', status: true, errorCode: 0, errorMessage: null, result: null });
      else joinCallbacks.error({ method: 'join', status: false, errorCode: msg.errorCode, errorMessage: msg.errorMessage, result: null });
    } else if (msg.type === 'leave-url' && initArgs) location.href = initArgs.leaveUrl;
  }

  window.ZoomMtg = {
    setZoomJSLib: function (p, dir) { record('setZoomJSLib'); calls.push('lib:' + p + dir); },
    preLoadWasm: function () { record('preLoadWasm'); },
    prepareWebSDK: function () { record('prepareWebSDK'); },
    i18n: {
      load: function (lang) { record('i18n.load:' + lang); },
      reload: function (lang) { record('i18n.reload:' + lang); }
    },
    init: function (args) {
      record('init');
      initArgs = args;
      setTimeout(function () { args.success({ method: 'init', status: true, errorCode: 0, errorMessage: null, result: null }); }, 10);
    },
    join: function (args) {
      record('join');
      joinCallbacks = { success: args.success, error: args.error };
      var report = plain(args);
      report.session = session;
      Promise.all([headersOf(location.href), headersOf(script.src)]).then(function (h) {
        report.page = {
          url: location.href,
          crossOriginIsolated: self.crossOriginIsolated === true,
          sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
          pageHeaders: h[0],
          sdkHeaders: h[1],
          calls: calls.slice(),
          init: plain(initArgs)
        };
        return post('/join', report);
      }).then(function (res) {
        var first = session === null;
        session = res.session;
        if (!first) return;
        var events = new EventSource(control + '/events?session=' + encodeURIComponent(session));
        events.onmessage = function (e) { handle(JSON.parse(e.data)); };
      });
    },
    inMeetingServiceListener: function (event, fn) {
      (listeners[event] = listeners[event] || []).push(fn);
    },
    getCurrentUser: function (args) {
      if (currentUser) args.success({ method: 'getCurrentUser', status: true, errorCode: 0, result: { currentUser: currentUser } });
      else if (args.error) args.error({ method: 'getCurrentUser', status: false, errorCode: 2, errorMessage: 'not in a meeting' });
    },
    getAttendeeslist: function (args) {
      if (args.success) args.success({ method: 'getAttendeeslist', status: true, errorCode: 0, result: { attendeesList: attendees.slice() } });
    },
    sendChat: function (args) {
      if (!args.message) return args.error && args.error({ errorCode: 4003, errorMessage: 'Invalid parameter' });
      post('/chat', { session: session, message: args.message, userId: args.userId === undefined ? null : args.userId }).then(function (res) {
        if (res.ok) args.success && args.success({ method: 'sendChat', status: true, errorCode: 0 });
        else args.error && args.error({ method: 'sendChat', status: false, errorCode: 1, errorMessage: res.error || 'chat refused' });
      });
    },
    leaveMeeting: function (args) {
      record('leaveMeeting');
      post('/leave', { session: session }).then(function () {
        fire('onUserLeave', { reason: 'You are leave meeting by leaveMeeting(api)', reasonCode: 2 });
        fire('onMeetingStatus', { meetingStatus: 3 });
        if (args && args.success) args.success({ method: 'leaveMeeting', status: true, errorCode: 0 });
        // Like the SDK: off to init's leaveUrl.
        setTimeout(function () { if (initArgs && initArgs.leaveUrl) location.href = initArgs.leaveUrl; }, 50);
      });
    }
  };
})();
