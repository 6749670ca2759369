// The Meet replica's page app. The server tells it which screen to show over a WebSocket;
// selectors and texts follow the research notes (platform-mechanics.md §1), including the
// false positives: the lobby shows `Leave call`, the mic/camera toggles and a self tile.
(() => {
  'use strict';

  const code = decodeURIComponent(location.pathname.split('/')[1] || '');
  const app = document.getElementById('app');
  const audioSink = document.getElementById('audio-sink');

  const S = {
    screen: 'loading',
    settings: null,
    name: '',
    micOn: true,
    camOn: true,
    /** @type {MediaStream | null} */ micStream: null,
    self: null,
    members: [],
    chatOpen: false,
    messages: [],
    modal: null, // 'media' | 'got-it' | 'recording-notice' | null
    joining: false,
  };

  const esc = (s) =>
    String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]);

  // ---------------------------------------------------------------- server link
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/__replica/ws`);
  const send = (msg) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  };
  ws.addEventListener('open', () => send({ t: 'hello', role: 'guest', code }));
  ws.addEventListener('message', (e) => handle(JSON.parse(e.data)));

  const mesh = new window.ReplicaMesh({
    send: (to, data) => send({ t: 'signal', to, data }),
    onTrack: (id, stream) => attachRemote(id, stream),
    onClosed: (id) => detachRemote(id),
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
        S.modal = S.settings.postJoinModal === 'none' ? null : S.settings.postJoinModal;
        show('incall');
        mesh.setLocalStream(S.micStream);
        for (const p of msg.peers) mesh.connect(p.id);
        // Report what this client received, for the benchmarks (not part of Meet's protocol).
        if (!S.rxTimer) S.rxTimer = setInterval(async () => send({ t: 'rx-stats', stats: await mesh.receivedAudio() }), 2000);
        break;
      case 'roster':
        S.members = msg.members;
        if (S.screen === 'incall') syncCall();
        break;
      case 'peer-left':
        mesh.close(msg.id);
        break;
      case 'signal':
        if (S.screen === 'incall') mesh.signal(msg.from, msg.data);
        break;
      case 'chat':
        S.messages.push({ from: msg.fromId === (S.self && S.self.id) ? 'You' : msg.from, text: msg.text, at: msg.at });
        if (S.screen === 'incall') renderChatMessages();
        break;
    }
  }

  // ---------------------------------------------------------------- media
  async function acquireMic() {
    try {
      const stream = await Promise.race([
        navigator.mediaDevices.getUserMedia({ audio: true }),
        new Promise((_, reject) => setTimeout(() => reject(new Error('permission prompt timed out')), 3000)),
      ]);
      S.micStream = stream;
      return true;
    } catch (err) {
      console.warn('[replica] no microphone:', err && err.message);
      return false;
    }
  }

  async function micPermissionGranted() {
    try {
      return (await navigator.permissions.query({ name: 'microphone' })).state === 'granted';
    } catch {
      return false;
    }
  }

  function releaseMic() {
    if (S.micStream) for (const t of S.micStream.getTracks()) t.stop();
    S.micStream = null;
  }

  // Remote audio: one <audio autoplay> per remote participant, plus an AnalyserNode per
  // stream driving the speaking indicator on that participant's tile.
  let audioCtx = null;
  const meters = new Map(); // member id -> { source, analyser, buf, lastLoud, speaking }
  const SPEAKING_RMS = 0.01;
  const HOLD_MS = 400;

  function ctx() {
    if (!audioCtx) audioCtx = new AudioContext();
    if (audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
    return audioCtx;
  }

  function meter(id, stream) {
    unmeter(id);
    try {
      const c = ctx();
      const source = c.createMediaStreamSource(stream);
      const analyser = c.createAnalyser();
      analyser.fftSize = 1024;
      source.connect(analyser);
      meters.set(id, { source, analyser, buf: new Float32Array(analyser.fftSize), lastLoud: 0, speaking: false });
    } catch (err) {
      console.warn('[replica] analyser failed', err);
    }
  }

  function unmeter(id) {
    const m = meters.get(id);
    if (!m) return;
    m.source.disconnect();
    meters.delete(id);
    setSpeaking(id, false);
  }

  setInterval(() => {
    const now = performance.now();
    for (const [id, m] of meters) {
      m.analyser.getFloatTimeDomainData(m.buf);
      let sum = 0;
      for (let i = 0; i < m.buf.length; i++) sum += m.buf[i] * m.buf[i];
      const rms = Math.sqrt(sum / m.buf.length);
      if (rms > SPEAKING_RMS && !(id === 'self' && !S.micOn)) m.lastLoud = now;
      const speaking = now - m.lastLoud < HOLD_MS;
      if (speaking !== m.speaking) {
        m.speaking = speaking;
        setSpeaking(id, speaking);
      }
    }
  }, 100);

  function setSpeaking(id, speaking) {
    const tileId = id === 'self' ? S.self && S.self.id : id;
    const tile = tileId && app.querySelector(`[data-member="${CSS.escape(tileId)}"]`);
    const ind = tile && tile.querySelector('[jsname="QgSmzd"]');
    if (!ind) return;
    // One class swap, so an observer never sees both (or neither) of the two classes.
    const [from, to] = speaking ? ['gjg47c', 'Oaajhc'] : ['Oaajhc', 'gjg47c'];
    if (!ind.classList.replace(from, to) && !ind.classList.contains(to)) ind.classList.add(to);
  }

  function attachRemote(id, stream) {
    let el = audioSink.querySelector(`audio[data-member="${CSS.escape(id)}"]`);
    if (!el) {
      el = document.createElement('audio');
      el.autoplay = true;
      el.dataset.member = id;
      audioSink.appendChild(el);
    }
    el.srcObject = stream;
    el.play().catch(() => {});
    meter(id, stream);
  }

  function detachRemote(id) {
    const el = audioSink.querySelector(`audio[data-member="${CSS.escape(id)}"]`);
    if (el) {
      el.srcObject = null;
      el.remove();
    }
    unmeter(id);
  }

  function leaveMedia() {
    mesh.closeAll();
    for (const id of [...meters.keys()]) unmeter(id);
    audioSink.replaceChildren();
    releaseMic();
  }

  // ---------------------------------------------------------------- pieces of UI
  const TOGGLE_JSNAME = { microphone: 'hw0c9', camera: 'psRWwc' };

  function toggleLabel(kind) {
    const on = kind === 'microphone' ? S.micOn : S.camOn;
    return `${on ? 'Turn off' : 'Turn on'} ${kind}`;
  }

  function toggleHtml(kind) {
    const on = kind === 'microphone' ? S.micOn : S.camOn;
    const attrs = `jsname="${TOGGLE_JSNAME[kind]}" data-toggle="${kind}" aria-label="${toggleLabel(kind)}" data-is-muted="${!on}"`;
    const icon = `<i aria-hidden="true">${kind === 'microphone' ? 'mic' : 'videocam'}${on ? '' : '_off'}</i>`;
    return S.settings.toggles === 'button'
      ? `<button type="button" ${attrs}>${icon}</button>`
      : `<div role="button" tabindex="0" ${attrs}>${icon}</div>`;
  }

  function refreshToggles() {
    for (const el of app.querySelectorAll('[data-toggle]')) {
      const kind = el.dataset.toggle;
      const on = kind === 'microphone' ? S.micOn : S.camOn;
      el.setAttribute('aria-label', toggleLabel(kind));
      el.setAttribute('data-is-muted', String(!on));
      const icon = el.querySelector('i');
      if (icon) icon.textContent = `${kind === 'microphone' ? 'mic' : 'videocam'}${on ? '' : '_off'}`;
    }
    if (S.micStream) for (const t of S.micStream.getAudioTracks()) t.enabled = S.micOn;
  }

  const leaveCallButton = () =>
    `<button type="button" jsname="CQylAd" aria-label="Leave call" data-act="leave-call"><i aria-hidden="true">call_end</i></button>`;

  function tileHtml(member, isSelf) {
    const selfBits = isSelf
      ? `<button type="button" aria-label="Backgrounds and effects" data-act="noop"><i aria-hidden="true">auto_awesome</i></button>`
      : '';
    const nameAttrs = isSelf ? ' data-self-name="You"' : '';
    return (
      `<div class="tile" jscontroller="J3CtX" data-participant-id="${esc(member.participantId)}" ` +
      `data-requested-participant-id="${esc(member.participantId)}" data-member="${esc(member.id)}">` +
      `<div jsname="QgSmzd" class="DYfzY cYKTje IisKdb gjg47c"><div></div><div></div><div></div></div>` +
      selfBits +
      `<div class="XEazBc adnwBd"><span class="notranslate"${nameAttrs}>${esc(member.name)}</span></div>` +
      `</div>`
    );
  }

  function mediaModalHtml() {
    const continueButton =
      S.settings.mediaModal === 'continue-without'
        ? `<button type="button" data-act="media-continue"><span>Continue without microphone and camera</span></button>`
        : '';
    return (
      `<div class="scrim"><div class="dialog" role="dialog" aria-modal="true" aria-labelledby="media-title">` +
      `<h2 id="media-title">Do you want people to see and hear you in the meeting?</h2>` +
      `<p>You can still turn off your microphone and camera anytime in the meeting.</p>` +
      `<button type="button" aria-label="Use microphone and camera" data-act="media-use"><span>Use microphone and camera</span></button>` +
      continueButton +
      `</div></div>`
    );
  }

  function postJoinModalHtml() {
    if (S.modal === 'got-it') {
      return (
        `<div class="scrim"><div class="dialog" role="dialog" aria-modal="true" aria-labelledby="tip-title">` +
        `<h2 id="tip-title">Others may see your video differently</h2>` +
        `<p>Your video is mirrored for you only.</p>` +
        `<button type="button" data-act="modal-close"><span>Got it</span></button>` +
        `</div></div>`
      );
    }
    if (S.modal === 'recording-notice') {
      return (
        `<div class="scrim"><div class="dialog" aria-modal="true" role="dialog" aria-labelledby="rec-title">` +
        `<h2 id="rec-title">This video call is being recorded</h2>` +
        `<p>By joining this call, you consent to being recorded. The recording will be shared with participants.</p>` +
        `<button type="button" data-mdc-dialog-action="cancel" data-act="leave-call"><span>Leave meeting</span></button>` +
        `<button type="button" data-mdc-dialog-action="ok" data-act="modal-close"><span>Join now</span></button>` +
        `</div></div>`
      );
    }
    return '';
  }

  // ---------------------------------------------------------------- screens
  function homeButton() {
    return `<button type="button" data-act="home"><span>Return to home screen</span></button>`;
  }

  function render(html, title) {
    app.innerHTML = html;
    app.removeAttribute('aria-busy');
    document.title = title || 'Meet';
  }

  function show(screen) {
    const prev = S.screen;
    S.screen = screen;
    if (screen !== 'incall' && prev === 'incall') leaveMedia();
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

  async function showPrejoin() {
    const st = S.settings;
    S.modal = st.mediaModal === 'none' ? null : 'media';
    if (st.mediaModal === 'none') {
      // No prompt: permissions were granted before, microphone and camera start on.
      S.micOn = true;
      S.camOn = true;
    } else {
      S.micOn = false;
      S.camOn = false;
    }
    const joinText = st.joinText || (st.lobby ? 'Ask to join' : 'Join now');
    render(
      `<div class="prejoin">` +
        `<div class="preview"><div class="toolbar">${toggleHtml('microphone')}${toggleHtml('camera')}</div></div>` +
        `<div class="panel">` +
        `<h1>What's your name?</h1>` +
        `<input type="text" jsname="YPqjbf" aria-label="Your name" placeholder="Your name" autocomplete="name" maxlength="60" spellcheck="false">` +
        `<div><button type="button" jsname="Qx7uuf" data-act="join" disabled><span>${esc(joinText)}</span></button></div>` +
        `</div>` +
        `</div>` +
        (S.modal === 'media' ? mediaModalHtml() : ''),
      'Meet',
    );
    if (st.mediaModal === 'none' && (await micPermissionGranted())) await acquireMic();
  }

  function showLobby() {
    const self = { ...S.self, name: S.name };
    const ret = S.settings.lobbyReturnButton ? homeButton() : '';
    render(
      `<div class="prejoin">` +
        `<div class="preview">${tileHtml(self, true)}` +
        `<div class="toolbar">${toggleHtml('microphone')}${toggleHtml('camera')}${leaveCallButton()}</div></div>` +
        `<div class="panel">` +
        `<h1>Asking to be let in...</h1>` +
        `<p>You’ll join the call when someone lets you in</p>` +
        ret +
        `</div>` +
        `</div>`,
      'Meet',
    );
  }

  function showCall() {
    const st = S.settings;
    const count = S.members.length;
    const people =
      st.toolbar === '2025'
        ? `<button type="button" jsname="A5il2e" aria-label="People - ${count} joined" data-people-button><i aria-hidden="true">people</i><span data-people-count>${count}</span></button>`
        : '';
    const avatars =
      st.toolbar === '2026'
        ? `<div class="avatars" data-avatar-count="${count}"><span>${count}</span></div>`
        : '';
    render(
      `<div class="call">` +
        `<div class="call-top">${avatars}</div>` +
        `<div class="stage" jsname="E2KThb"></div>` +
        `<div class="call-bottom">` +
        `<div class="meeting-code">${esc(code)}</div>` +
        `<div role="region" aria-label="Call controls">` +
        toggleHtml('microphone') +
        toggleHtml('camera') +
        `<button type="button" aria-label="Turn on captions" data-act="captions"><i aria-hidden="true">closed_caption</i></button>` +
        `<button type="button" aria-label="Raise hand (ctrl + alt + h)" data-act="noop"><i aria-hidden="true">back_hand</i></button>` +
        `<button type="button" jsname="NakZHc" aria-label="More options" data-act="noop"><i aria-hidden="true">more_vert</i></button>` +
        leaveCallButton() +
        `</div>` +
        `<div class="side">${people}` +
        `<button type="button" aria-label="Chat with everyone" aria-pressed="false" data-act="chat"><i aria-hidden="true">chat</i></button>` +
        `</div>` +
        `</div>` +
        `<div id="chat-slot"></div>` +
        `<div id="modal-slot">${postJoinModalHtml()}</div>` +
        `</div>`,
      `Meet - ${code}`,
    );
    syncCall();
    if (S.micStream) meter('self', S.micStream);
  }

  /** Brings tiles and counts in line with the roster without rebuilding live elements. */
  function syncCall() {
    const stage = app.querySelector('.stage');
    if (!stage) return;
    const ids = new Set(S.members.map((m) => m.id));
    for (const tile of stage.querySelectorAll('[data-member]')) if (!ids.has(tile.dataset.member)) tile.remove();
    for (const m of S.members) {
      if (stage.querySelector(`[data-member="${CSS.escape(m.id)}"]`)) continue;
      stage.insertAdjacentHTML('beforeend', tileHtml(m, S.self && m.id === S.self.id));
      const meterState = meters.get(S.self && m.id === S.self.id ? 'self' : m.id);
      if (meterState && meterState.speaking) setSpeaking(m.id, true);
    }
    const count = S.members.length;
    const people = app.querySelector('[data-people-button]');
    if (people) {
      people.setAttribute('aria-label', `People - ${count} joined`);
      people.querySelector('[data-people-count]').textContent = String(count);
    }
    const avatars = app.querySelector('[data-avatar-count]');
    if (avatars) {
      avatars.setAttribute('data-avatar-count', String(count));
      avatars.querySelector('span').textContent = String(count);
    }
  }

  function renderChat() {
    const slot = app.querySelector('#chat-slot');
    const button = app.querySelector('button[aria-label="Chat with everyone"]');
    if (!slot) return;
    if (button) button.setAttribute('aria-pressed', String(S.chatOpen));
    if (!S.chatOpen) {
      slot.replaceChildren();
      return;
    }
    slot.innerHTML =
      `<aside class="chat-panel" aria-label="Side panel">` +
      `<h2>In-call messages</h2>` +
      `<button type="button" aria-label="Close" data-act="chat"><i aria-hidden="true">close</i></button>` +
      `<div class="messages" aria-live="polite" jsname="xySENc"></div>` +
      `<div class="composer">` +
      `<textarea aria-label="Send a message" placeholder="Send a message" rows="1"></textarea>` +
      `<button type="button" aria-label="Send a message" data-act="send" disabled><i aria-hidden="true">send</i></button>` +
      `</div>` +
      `</aside>`;
    renderChatMessages();
  }

  function renderChatMessages() {
    const box = app.querySelector('.chat-panel .messages');
    if (!box) return;
    box.innerHTML = S.messages
      .map(
        (m, i) =>
          `<div class="message" data-message-id="${m.at}-${i}">` +
          `<div class="sender">${esc(m.from)}</div>` +
          `<div class="time">${new Date(m.at).toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit' })}</div>` +
          `<div data-message-text>${esc(m.text)}</div>` +
          `</div>`,
      )
      .join('');
  }

  function sendChat() {
    const ta = app.querySelector('.chat-panel textarea');
    if (!ta) return;
    const text = ta.value.trim();
    if (!text) return;
    send({ t: 'chat', text });
    ta.value = '';
    updateSendButton();
  }

  function updateSendButton() {
    const ta = app.querySelector('.chat-panel textarea');
    const b = app.querySelector('.chat-panel button[aria-label="Send a message"]');
    if (ta && b) b.disabled = !ta.value.trim();
  }

  const END_SCREENS = {
    denied: () => `<div class="end"><h1>Someone in the call denied your request to join</h1>${homeButton()}</div>`,
    timeout: () => `<div class="end"><h1>No one responded to your request to join the call</h1>${homeButton()}</div>`,
    removed: () =>
      `<div class="end"><div class="roSPhc"><h1>You've been removed from the meeting</h1></div>${homeButton()}</div>`,
    ended: () =>
      `<div class="end"><div class="roSPhc"><h1>Your host ended the meeting for everyone</h1></div>${homeButton()}</div>`,
    left: () =>
      `<div class="end"><h1>You left the meeting</h1>` +
      `<button type="button" data-act="rejoin"><span>Rejoin</span></button>${homeButton()}</div>`,
    blocked: () =>
      `<div class="end"><h1>You can't join this video call</h1>${homeButton()}</div>`,
    notfound: () =>
      `<div class="end"><h1>Check your meeting code</h1>` +
      `<p>Make sure you entered the correct meeting code in the URL, for example: https://meet.google.com/<b>xxx-yyyy-zzz</b></p>` +
      `${homeButton()}</div>`,
  };

  function showEnd(screen) {
    const html = (END_SCREENS[screen] || END_SCREENS.notfound)();
    render(html, 'Meet');
  }

  // ---------------------------------------------------------------- events
  app.addEventListener('input', (e) => {
    const t = e.target;
    if (t.matches('input[aria-label="Your name"]')) {
      const join = app.querySelector('button[data-act="join"]');
      if (join && !S.joining) join.disabled = !t.value.trim();
    }
    if (t.matches('.chat-panel textarea')) updateSendButton();
  });

  app.addEventListener('keydown', (e) => {
    const t = e.target;
    if (t.matches('.chat-panel textarea') && e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      sendChat();
    }
    if (t.matches('input[aria-label="Your name"]') && e.key === 'Enter') {
      app.querySelector('button[data-act="join"]')?.click();
    }
    if (e.key === 'Enter' || e.key === ' ') {
      if (t.matches('div[role="button"]')) {
        e.preventDefault();
        t.click();
      }
    }
  });

  app.addEventListener('click', async (e) => {
    if (audioCtx && audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
    const el = e.target.closest('[data-act], [data-toggle]');
    if (!el || el.disabled) return;
    if (el.dataset.toggle) {
      if (el.dataset.toggle === 'microphone') S.micOn = !S.micOn;
      else S.camOn = !S.camOn;
      refreshToggles();
      return;
    }
    switch (el.dataset.act) {
      case 'media-use': {
        el.disabled = true;
        const ok = await acquireMic();
        S.micOn = ok;
        S.camOn = ok;
        closeModal();
        refreshToggles();
        return;
      }
      case 'media-continue':
        S.micOn = false;
        S.camOn = false;
        closeModal();
        refreshToggles();
        return;
      case 'join': {
        const input = app.querySelector('input[aria-label="Your name"]');
        const name = input ? input.value.trim() : '';
        if (!name) return;
        S.name = name;
        S.joining = true;
        el.disabled = true;
        send({ t: 'join', name });
        return;
      }
      case 'leave-call':
        if (S.screen === 'lobby') send({ t: 'cancel' });
        else if (S.screen === 'incall') send({ t: 'leave' });
        return;
      case 'home':
        if (S.screen === 'lobby') send({ t: 'cancel' });
        location.href = '/';
        return;
      case 'rejoin':
        location.reload();
        return;
      case 'modal-close':
        closeModal();
        return;
      case 'captions': {
        const on = el.getAttribute('aria-label') === 'Turn on captions';
        el.setAttribute('aria-label', on ? 'Turn off captions' : 'Turn on captions');
        return;
      }
      case 'chat':
        S.chatOpen = !S.chatOpen;
        renderChat();
        if (S.chatOpen) app.querySelector('.chat-panel textarea')?.focus();
        return;
      case 'send':
        sendChat();
        return;
    }
  });

  function closeModal() {
    S.modal = null;
    const scrim = app.querySelector('.scrim');
    if (scrim) scrim.remove();
  }
})();
