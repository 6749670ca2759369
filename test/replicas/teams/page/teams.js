// The Teams replica's web client (the v2 client in the top document, or the meeting experience
// inside light-meetings' iframe). The server says which screen to show over a WebSocket;
// selectors and texts follow research/platform-mechanics.md §2, including its traps: the lobby
// has a hang-up button, the denial and removal screens share `#calling-retry-screen-title`, and
// about 1.5 s after admission a `[role="alert"].error-message` banner with a `data-tid*="retry"`
// and an "OK" button appears — none of which means the bot was removed.
(() => {
  'use strict';

  const app = document.getElementById('app');
  const audioSink = document.getElementById('audio-sink');
  const inLight = location.pathname === '/light-meetings/experience';
  const query = new URLSearchParams(location.search);

  const S = {
    screen: 'loading',
    settings: null,
    self: null,
    members: [],
    name: '',
    micOn: false,
    camOn: false,
    /** @type {MediaStream | null} */ micStream: null,
    modal: null, // 'av' | null
    joinPending: false,
    pane: null, // 'roster' | 'chat' | null
    messages: [],
    speaking: new Set(),
    alertTimer: 0,
  };

  const esc = (s) =>
    String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]);

  // ---------------------------------------------------------------- server link
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/__replica/ws`);
  const send = (msg) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  };
  ws.addEventListener('open', () => {
    if (inLight) send({ t: 'hello', role: 'guest', coords: query.get('coords') || '' });
    else send({ t: 'hello', role: 'guest', route: location.hash.replace(/^#/, '') });
  });
  ws.addEventListener('message', (e) => handle(JSON.parse(e.data)));

  const link = new window.MixerLink({
    send: (data) => send({ t: 'signal', data }),
    onTrack: (_track, stream) => attachMainAudio(stream),
  });

  function handle(msg) {
    switch (msg.t) {
      case 'screen':
        if (msg.settings) S.settings = msg.settings;
        if (msg.self) S.self = msg.self;
        show(msg.screen);
        break;
      case 'incall':
        S.settings = msg.settings;
        S.self = msg.self;
        S.members = msg.members;
        S.speaking = new Set(msg.speaking || []);
        show('incall');
        break;
      case 'roster':
        S.members = msg.members;
        if (S.screen === 'incall') syncCall();
        break;
      case 'speaking':
        S.speaking = new Set(msg.ids);
        if (S.screen === 'incall') syncOutlines();
        break;
      case 'signal':
        if (S.screen === 'incall') link.signal(msg.data);
        break;
      case 'chat':
        S.messages.push({ from: msg.fromId === (S.self && S.self.id) ? S.name : msg.from, text: msg.text, at: msg.at });
        if (S.screen === 'incall') renderChatMessages();
        break;
    }
  }

  // ---------------------------------------------------------------- media
  async function acquireMic() {
    try {
      S.micStream = await Promise.race([
        navigator.mediaDevices.getUserMedia({ audio: true }),
        new Promise((_, reject) => setTimeout(() => reject(new Error('permission prompt timed out')), 3000)),
      ]);
    } catch (err) {
      console.warn('[teams replica] no microphone:', err && err.message);
      S.micStream = null;
    }
  }

  function releaseMic() {
    if (S.micStream) for (const t of S.micStream.getTracks()) t.stop();
    S.micStream = null;
  }

  /** The call's audio: the mixer's one `mainAudio` stream, played by one <audio> element. */
  function attachMainAudio(stream) {
    let el = audioSink.querySelector('audio');
    if (!el) {
      el = document.createElement('audio');
      el.autoplay = true;
      audioSink.appendChild(el);
    }
    el.srcObject = stream;
    el.play().catch(() => {});
  }

  function leaveMedia() {
    link.close();
    audioSink.replaceChildren();
    releaseMic();
    clearTimeout(S.alertTimer);
  }

  // ---------------------------------------------------------------- pieces of UI
  const SPEAKING_CLASSES = '___1vvhwjq vdi-frame-occlusion fn8mz29 f1ky4vpe frwhdur ftevtku f1qyaz97 f14rmoke fm03cl5 f3ve9t9';
  const SILENT_CLASSES = '___dv8x4j0 f1429bq1 f9pox2d';

  function switchHtml(kind) {
    const on = kind === 'mic' ? S.micOn : S.camOn;
    const tid = kind === 'mic' ? 'toggle-mute' : 'toggle-video';
    const label = kind === 'mic' ? 'Microphone' : 'Camera';
    return `<button type="button" role="switch" data-tid="${tid}" aria-checked="${on}" aria-label="${label}" title="${label}">${label} ${on ? 'on' : 'off'}</button>`;
  }

  function refreshSwitches() {
    for (const el of app.querySelectorAll('[data-tid="toggle-mute"], [data-tid="toggle-video"]')) {
      const on = el.dataset.tid === 'toggle-mute' ? S.micOn : S.camOn;
      el.setAttribute('aria-checked', String(on));
      el.textContent = `${el.getAttribute('aria-label')} ${on ? 'on' : 'off'}`;
    }
    const mic = app.querySelector('#microphone-button');
    if (mic) {
      mic.setAttribute('aria-label', S.micOn ? 'Mute mic (Ctrl+Shift+M)' : 'Unmute mic (Ctrl+Shift+M)');
      mic.setAttribute('data-state', S.micOn ? 'mic' : 'mic-off');
    }
    const cam = app.querySelector('#video-button');
    if (cam) cam.setAttribute('aria-label', S.camOn ? 'Turn camera off (Ctrl+Shift+O)' : 'Turn camera on (Ctrl+Shift+O)');
    if (S.micStream) for (const t of S.micStream.getAudioTracks()) t.enabled = S.micOn;
  }

  function hangupHtml() {
    const idOrTid = S.settings.hangup === 'id' ? 'id="hangup-button"' : 'data-tid="hangup-main-btn"';
    return `<button type="button" ${idOrTid} aria-label="Leave (Ctrl+Shift+H)" data-act="hangup">Leave</button>`;
  }

  function deviceButtonsHtml() {
    return (
      `<button type="button" id="video-button" aria-label="Turn camera on (Ctrl+Shift+O)" data-act="cam">Camera</button>` +
      `<button type="button" id="microphone-button" data-state="mic-off" aria-label="Unmute mic (Ctrl+Shift+M)" data-act="mic">Mic</button>`
    );
  }

  function avModalHtml() {
    return (
      `<div class="scrim"><div role="dialog" aria-modal="true" aria-labelledby="av-title">` +
      `<h2 id="av-title">Are you sure you don't want audio or video?</h2>` +
      `<p>If you change your mind, select the camera icon by your address bar and then Always allow.</p>` +
      `<button type="button" data-act="av-continue">Continue without audio or video</button>` +
      `<button type="button" aria-label="Close" data-act="av-close">✕</button>` +
      `</div></div>`
    );
  }

  const initials = (name) =>
    String(name)
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => w[0].toUpperCase())
      .join('');

  function tileHtml(member) {
    const speaking = S.speaking.has(member.id);
    return (
      `<div data-cid="calling-participant-stream" role="menuitem" data-member="${esc(member.id)}" aria-label="${esc(member.name)}, Context menu is available">` +
      `<div data-tid="${esc(member.name)}" data-stream-type="Video">` +
      `<div data-tid="voice-level-stream-outline" data-is-speaking="${speaking}" class="${speaking ? SPEAKING_CLASSES : SILENT_CLASSES}"></div>` +
      `<div class="avatar" aria-hidden="true">${esc(initials(member.name))}</div>` +
      `<div data-tid="participant-display-name-container"><span data-tid="participant-display-name">${esc(member.name)}</span></div>` +
      `</div></div>`
    );
  }

  const displayName = (m) => (m.role === 'guest' ? `${m.name} (Guest)` : m.name);

  function rosterItemHtml(m) {
    const organizer = S.settings && m.mri === S.settings.organizerMri;
    const isSelf = S.self && m.id === S.self.id;
    const tags = [organizer ? 'Organizer' : null, isSelf ? 'You' : null].filter(Boolean).join(', ');
    return (
      `<li role="listitem" data-tid="participantsInCall-${esc(m.mri)}" data-cid="roster-participant" aria-label="${esc(displayName(m))}${tags ? `, ${esc(tags)}` : ''}">` +
      `<span class="avatar" aria-hidden="true">${esc(initials(m.name))}</span>` +
      `<span data-tid="roster-item-display-name" title="${esc(displayName(m))}">${esc(displayName(m))}</span>` +
      (tags ? `<span data-tid="roster-item-role">${esc(tags)}</span>` : '') +
      `<span class="mic" aria-label="${m.micOn ? 'Unmuted' : 'Muted'}"></span>` +
      `</li>`
    );
  }

  // ---------------------------------------------------------------- screens
  function render(html, title) {
    app.innerHTML = html;
    app.removeAttribute('aria-busy');
    document.title = title || 'Microsoft Teams';
  }

  function show(screen) {
    const prev = S.screen;
    S.screen = screen;
    if (prev === 'incall' && screen !== 'incall') leaveMedia();
    switch (screen) {
      case 'prejoin':
        return showPrejoin();
      case 'lobby':
        return showLobby();
      case 'incall':
        return showCall();
      default:
        leaveMedia();
        return showEnd(screen);
    }
  }

  function showPrejoin() {
    const st = S.settings;
    S.micOn = st.toggles === 'on';
    S.camOn = st.toggles === 'on';
    S.modal = st.avModal === 'before-prejoin' ? 'av' : null;
    render(
      `<div class="prejoin" data-tid="prejoin-screen">` +
        `<div class="preview"><div class="video-preview">Your camera is turned ${S.camOn ? 'on' : 'off'}</div>` +
        `<div class="device-bar">${switchHtml('video')}${switchHtml('mic')}</div></div>` +
        `<div class="panel">` +
        `<h1>Choose your audio and video settings for</h1><h2>Meeting now</h2>` +
        `<input type="text" data-tid="prejoin-display-name-input" placeholder="Type your name" aria-label="Type your name" maxlength="100" autocomplete="off">` +
        `<div role="radiogroup" aria-label="Audio options">` +
        `<div role="radio" tabindex="0" aria-checked="true" aria-label="Computer audio">Computer audio</div>` +
        `<div role="radio" tabindex="-1" aria-checked="false" aria-label="Don't use audio">Don't use audio</div>` +
        `</div>` +
        `<div><button type="button" data-tid="prejoin-cancel-button" data-act="cancel">Cancel</button>` +
        `<button type="button" class="primary" data-tid="prejoin-join-button" data-act="join" disabled>Join now</button></div>` +
        `</div>` +
        `</div>` +
        (S.modal === 'av' ? avModalHtml() : ''),
      'Microsoft Teams',
    );
  }

  function updateJoinButton() {
    const join = app.querySelector('[data-tid="prejoin-join-button"]');
    const input = app.querySelector('[data-tid="prejoin-display-name-input"]');
    if (join) join.disabled = S.joinPending || S.modal === 'av' || !(input && input.value.trim());
  }

  async function sendJoin() {
    const input = app.querySelector('[data-tid="prejoin-display-name-input"]');
    const name = input ? input.value.trim() : S.name;
    if (!name) return;
    S.name = name;
    S.joinPending = true;
    updateJoinButton();
    if (S.micOn) await acquireMic();
    send({ t: 'join', name, mic: S.micOn, camera: S.camOn });
  }

  function showLobby() {
    render(
      `<div class="lobby" data-tid="lobby-screen">` +
        `<div class="preview"><div class="avatar" aria-hidden="true">${esc(initials(S.name))}</div></div>` +
        `<div class="panel">` +
        `<h1>${esc(S.settings.lobbyText)}</h1>` +
        `<p>We've let people in the meeting know you're waiting.</p>` +
        `<div role="toolbar" aria-label="Meeting controls">${deviceButtonsHtml()}${hangupHtml()}</div>` +
        `</div>` +
        `</div>`,
      'Microsoft Teams',
    );
    refreshSwitches();
  }

  function peopleButtonHtml() {
    const n = S.members.length;
    const rc = S.settings.rosterCount;
    const aria = rc === 'aria' ? `People (${n} participants)` : 'People';
    const badge = rc === 'badge' ? `<span data-tid="roster-button-tile" class="badge">${n}</span>` : '';
    return `<button type="button" id="roster-button" data-tid="roster-button" aria-label="${aria}" aria-pressed="${S.pane === 'roster'}" data-act="roster"><span>People</span>${badge}</button>`;
  }

  function showCall() {
    render(
      `<div class="call" data-tid="calling-screen">` +
        `<div role="toolbar" data-tid="calling-toolbar" aria-label="Meeting controls">` +
        `<span class="timer" role="timer">00:00</span>` +
        `<button type="button" id="chat-button" aria-label="Chat" aria-pressed="false" data-act="chat">Chat</button>` +
        `<span id="people-slot">${peopleButtonHtml()}</span>` +
        `<button type="button" id="raisehands-button" aria-label="Raise (Ctrl+Shift+K)" data-act="noop">Raise</button>` +
        `<button type="button" id="callingButtons-showMoreBtn" aria-label="More" data-act="noop">More</button>` +
        deviceButtonsHtml() +
        hangupHtml() +
        `</div>` +
        `<div class="main"><div class="gallery" data-tid="video-gallery"></div><div class="side" id="side-pane"></div></div>` +
        `<div id="alert-slot"></div>` +
        `</div>`,
      'Meeting now | Microsoft Teams',
    );
    refreshSwitches();
    syncCall();
    link.setLocalStream(S.micStream);
    if (S.settings.falseAlert) {
      S.alertTimer = setTimeout(() => {
        const slot = app.querySelector('#alert-slot');
        if (!slot || S.screen !== 'incall') return;
        slot.innerHTML =
          `<div role="alert" class="error-message" data-tid="call-retry-banner">` +
          `<span>Your network connection is unstable. Audio and video quality may be affected.</span>` +
          `<button type="button" data-tid="call-retry-dismiss" data-act="alert-ok">OK</button>` +
          `</div>`;
      }, 1500);
    }
  }

  /** Tiles, counts and the People pane in line with the roster, without rebuilding live elements. */
  function syncCall() {
    const gallery = app.querySelector('.gallery');
    if (!gallery) return;
    const others = S.members.filter((m) => !S.self || m.id !== S.self.id);
    const ids = new Set(others.map((m) => m.id));
    for (const tile of gallery.querySelectorAll('[data-member]')) if (!ids.has(tile.dataset.member)) tile.remove();
    for (const m of others) {
      if (!gallery.querySelector(`[data-member="${CSS.escape(m.id)}"]`)) gallery.insertAdjacentHTML('beforeend', tileHtml(m));
    }
    const slot = app.querySelector('#people-slot');
    if (slot) slot.innerHTML = peopleButtonHtml();
    if (S.pane === 'roster') renderPane();
  }

  function syncOutlines() {
    for (const tile of app.querySelectorAll('[data-cid="calling-participant-stream"]')) {
      const outline = tile.querySelector('[data-tid="voice-level-stream-outline"]');
      if (!outline) continue;
      const speaking = S.speaking.has(tile.dataset.member);
      if (outline.getAttribute('data-is-speaking') === String(speaking)) continue;
      outline.setAttribute('data-is-speaking', String(speaking));
      outline.className = speaking ? SPEAKING_CLASSES : SILENT_CLASSES;
    }
  }

  function renderPane() {
    const pane = app.querySelector('#side-pane');
    if (!pane) return;
    const chatButton = app.querySelector('#chat-button');
    if (chatButton) chatButton.setAttribute('aria-pressed', String(S.pane === 'chat'));
    const peopleButton = app.querySelector('#roster-button');
    if (peopleButton) peopleButton.setAttribute('aria-pressed', String(S.pane === 'roster'));
    if (S.pane === 'roster') {
      pane.innerHTML =
        `<div data-tid="people-pane" role="complementary" aria-label="Participants">` +
        `<h2>Participants</h2>` +
        `<button type="button" aria-label="Close" data-act="close-pane">✕</button>` +
        `<div data-tid="roster-in-meeting-header" role="heading" aria-level="3">In this meeting (${S.members.length})</div>` +
        `<ul role="list" data-tid="roster-in-meeting">${S.members.map(rosterItemHtml).join('')}</ul>` +
        `</div>`;
    } else if (S.pane === 'chat') {
      pane.innerHTML =
        `<div data-tid="chat-pane" role="complementary" aria-label="Chat">` +
        `<h2>Meeting chat</h2>` +
        `<button type="button" aria-label="Close" data-act="close-pane">✕</button>` +
        `<div data-tid="message-pane-list" role="list"></div>` +
        `<div data-tid="ckeditor" role="textbox" contenteditable="true" aria-multiline="true" aria-label="Type a message" aria-placeholder="Type a message"></div>` +
        `<button type="button" data-tid="newMessageCommands-send" aria-label="Send" data-act="send" disabled>Send</button>` +
        `</div>`;
      renderChatMessages();
    } else {
      pane.replaceChildren();
    }
  }

  function renderChatMessages() {
    const list = app.querySelector('[data-tid="message-pane-list"]');
    if (!list) return;
    list.innerHTML = S.messages
      .map(
        (m, i) =>
          `<div role="listitem" data-tid="chat-pane-message" data-mid="${m.at}-${i}">` +
          `<span data-tid="message-author-name">${esc(m.from)}</span>` +
          `<time>${new Date(m.at).toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit' })}</time>` +
          `<div data-tid="chat-pane-message-text">${esc(m.text)}</div>` +
          `</div>`,
      )
      .join('');
  }

  function composeText() {
    const box = app.querySelector('[data-tid="ckeditor"]');
    return box ? box.innerText.trim() : '';
  }

  function sendChat() {
    const text = composeText();
    if (!text) return;
    send({ t: 'chat', text });
    const box = app.querySelector('[data-tid="ckeditor"]');
    if (box) box.textContent = '';
    updateSendButton();
  }

  function updateSendButton() {
    const b = app.querySelector('[data-tid="newMessageCommands-send"]');
    if (b) b.disabled = !composeText();
  }

  const END_SCREENS = {
    denied: () =>
      `<div class="end" data-tid="calling-retry-screen"><h1 id="calling-retry-screen-title">Sorry, but you were denied access to the meeting.</h1>` +
      `<button type="button" data-tid="calling-retry-rejoinbutton" data-act="rejoin">Rejoin</button>` +
      `<button type="button" data-tid="calling-retry-cancelbutton" data-act="noop">Dismiss</button></div>`,
    removed: () =>
      `<div class="end" data-tid="calling-retry-screen"><h1 id="calling-retry-screen-title">You've been removed from this meeting</h1>` +
      `<p>Someone in the meeting removed you.</p>` +
      `<button type="button" data-tid="calling-retry-rejoinbutton" data-act="rejoin">Rejoin</button>` +
      `<button type="button" data-tid="calling-retry-cancelbutton" data-act="noop">Dismiss</button></div>`,
    ended: () =>
      `<div class="end" data-tid="meeting-ended-screen"><h1>The meeting has ended</h1><p>Call ended by the organizer.</p></div>`,
    left: () =>
      `<div class="end" data-tid="post-call-screen"><h1>You left the meeting</h1>` +
      `<button type="button" data-tid="calling-retry-rejoinbutton" data-act="rejoin">Rejoin</button></div>`,
    notfound: () =>
      `<div class="end" data-tid="meeting-not-found"><h1>Looks like the meeting URL is incorrect</h1>` +
      `<p>Check the link and try again, or ask the organizer to send a new one.</p></div>`,
    signin: () =>
      `<div class="end" data-tid="anonymous-join-blocked"><h1>We need to verify your info before you can join</h1>` +
      `<p>To join, sign in or use Teams on the web</p>` +
      `<button type="button" class="primary" data-act="noop">Sign in</button></div>`,
    captcha: () =>
      `<div class="end" data-tid="captcha-screen"><h1>Verify you’re a real person</h1>` +
      `<p>Enter the characters you see</p><div class="challenge" aria-label="Visual challenge">7bXq2</div>` +
      `<input type="text" aria-label="Enter the characters you see"><button type="button" data-act="noop">Next</button></div>`,
  };

  function showEnd(screen) {
    render((END_SCREENS[screen] || END_SCREENS.notfound)(), 'Microsoft Teams');
  }

  // ---------------------------------------------------------------- events
  app.addEventListener('input', (e) => {
    const t = e.target;
    if (t.matches('[data-tid="prejoin-display-name-input"]')) updateJoinButton();
    if (t.closest('[data-tid="ckeditor"]')) updateSendButton();
  });

  app.addEventListener('keydown', (e) => {
    const t = e.target;
    if (t.closest('[data-tid="ckeditor"]') && e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      sendChat();
    }
  });

  app.addEventListener('click', async (e) => {
    const el = e.target.closest('[data-act], [role="switch"]');
    if (!el || el.disabled) return;
    if (el.getAttribute('role') === 'switch') {
      if (el.dataset.tid === 'toggle-mute') S.micOn = !S.micOn;
      else S.camOn = !S.camOn;
      refreshSwitches();
      return;
    }
    switch (el.dataset.act) {
      case 'av-continue':
      case 'av-close':
        S.modal = null;
        S.micOn = false;
        S.camOn = false;
        app.querySelector('.scrim')?.remove();
        refreshSwitches();
        if (S.settings.avModal === 'after-join' && S.joinPending) {
          S.joinPending = false;
          if (el.dataset.act === 'av-continue') await sendJoin();
        }
        updateJoinButton();
        return;
      case 'join':
        if (S.settings.avModal === 'after-join' && !S.avAnswered) {
          // Teams asks only now, and sends the join request once answered.
          S.avAnswered = true;
          S.joinPending = true;
          S.modal = 'av';
          app.insertAdjacentHTML('beforeend', avModalHtml());
          updateJoinButton();
          return;
        }
        await sendJoin();
        return;
      case 'cancel':
        send({ t: 'cancel' });
        return;
      case 'hangup':
        if (S.screen === 'lobby') send({ t: 'cancel' });
        else if (S.screen === 'incall') send({ t: 'leave' });
        return;
      case 'mic':
        S.micOn = !S.micOn;
        if (S.micOn && !S.micStream) {
          await acquireMic();
          link.setLocalStream(S.micStream);
        }
        refreshSwitches();
        send({ t: 'devices', mic: S.micOn, camera: S.camOn });
        return;
      case 'cam':
        S.camOn = !S.camOn;
        refreshSwitches();
        send({ t: 'devices', mic: S.micOn, camera: S.camOn });
        return;
      case 'roster':
        S.pane = S.pane === 'roster' ? null : 'roster';
        renderPane();
        return;
      case 'chat':
        S.pane = S.pane === 'chat' ? null : 'chat';
        renderPane();
        if (S.pane === 'chat') app.querySelector('[data-tid="ckeditor"]')?.focus();
        return;
      case 'close-pane':
        S.pane = null;
        renderPane();
        return;
      case 'send':
        sendChat();
        return;
      case 'alert-ok':
        el.closest('[role="alert"]')?.remove();
        return;
      case 'rejoin':
        location.reload();
        return;
    }
  });

  // The call timer, so the in-call page keeps changing like the real one.
  setInterval(() => {
    const timer = app.querySelector('.timer');
    if (!timer || S.screen !== 'incall' || !S.self) return;
    const s = Math.floor((Date.now() - (S.enteredAt || (S.enteredAt = Date.now()))) / 1000);
    timer.textContent = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }, 1000);
})();
