// The Zoom replica's web client. The path picks the variant: `/wc/<id>/join` is the new
// React client, `/wc/join/<id>` the classic one. The server decides which screen to show
// over a WebSocket; markup and texts follow platform-mechanics.md §3, including the traps
// real bots fell into: the name field is a controlled input that keeps only what was
// typed with key events, the waiting room renders inside `.meeting-app`, the footer (and
// its "Leave" button) auto-hides, in-call toasts say "please wait", the end modals leave
// the call UI underneath, and the active-speaker container keeps the last speaker.
(() => {
  'use strict';

  const path = location.pathname;
  const VARIANT = /^\/wc\/join\//.test(path) ? 'classic' : 'new';
  const meetingId = (/\/wc\/(?:join\/)?(\d+)/.exec(path) || [])[1] || '';
  const query = new URLSearchParams(location.search);
  const root = document.getElementById('root');
  const audioSink = document.getElementById('audio-sink');

  const S = {
    screen: 'loading',
    settings: null,
    name: '',
    passcode: '',
    passcodeField: false,
    /** @type {MediaStream | null} */ mic: null,
    micOn: false,
    camOn: false,
    permissionsAsked: false,
    bannerOpen: false,
    self: null,
    members: [],
    speaking: new Set(),
    active: null,
    audioJoined: false,
    muted: true,
    chatOpen: false,
    participantsOpen: false,
    messages: [],
  };

  const esc = (s) =>
    String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]);
  const initials = (name) =>
    String(name)
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => w[0].toUpperCase())
      .join('');

  // ------------------------------------------------------------------ server link
  const ws = new WebSocket(`ws://${location.host}/__replica/ws`);
  const send = (msg) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  };
  ws.addEventListener('open', () => send({ t: 'hello', role: 'guest', id: meetingId, pwd: query.get('pwd') || '' }));

  const link = new window.ZoomMixerLink({ send: (data) => send({ t: 'signal', data }), onTrack: playMix });

  ws.addEventListener('message', (e) => {
    const msg = JSON.parse(e.data);
    switch (msg.t) {
      case 'screen':
        if (msg.settings) S.settings = msg.settings;
        show(msg.screen, msg);
        break;
      case 'incall':
        S.settings = msg.settings;
        S.self = msg.self;
        S.members = msg.members;
        show('incall', msg);
        break;
      case 'roster':
        S.members = msg.members;
        if (S.screen === 'incall') syncCall();
        break;
      case 'speakers':
        S.speaking = new Set(msg.speaking);
        S.active = msg.active;
        if (S.screen === 'incall') renderVideo();
        break;
      case 'signal':
        if (S.screen === 'incall') link.signal(msg.data);
        break;
      case 'media-reset':
        link.close();
        break;
      case 'chat':
        S.messages.push({ from: msg.fromId === (S.self && S.self.id) ? 'Me' : msg.from, text: msg.text, at: msg.at });
        renderChatMessages();
        break;
    }
  });

  // ------------------------------------------------------------------ media
  let audioCtx = null;
  function ctx() {
    if (!audioCtx) audioCtx = new AudioContext();
    if (audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
    return audioCtx;
  }

  /** The one mixed stream from Zoom's servers, played through WebAudio like the real client. */
  function playMix(stream) {
    audioSink.replaceChildren();
    // Chromium hands a remote WebRTC stream to WebAudio only while a media element plays it.
    const el = document.createElement('audio');
    el.muted = true;
    el.autoplay = true;
    el.srcObject = stream;
    audioSink.appendChild(el);
    el.play().catch(() => {});
    const c = ctx();
    if (playMix.source) playMix.source.disconnect();
    playMix.source = c.createMediaStreamSource(stream);
    playMix.source.connect(c.destination);
  }

  function stopMedia() {
    link.close();
    if (playMix.source) playMix.source.disconnect();
    playMix.source = null;
    audioSink.replaceChildren();
    if (S.mic) for (const t of S.mic.getTracks()) t.stop();
    S.mic = null;
  }

  async function getMedia(constraints) {
    try {
      return await Promise.race([
        navigator.mediaDevices.getUserMedia(constraints),
        new Promise((_, reject) => setTimeout(() => reject(new Error('permission prompt timed out')), 3000)),
      ]);
    } catch (err) {
      console.warn('[zoom replica] getUserMedia', JSON.stringify(constraints), err && err.message);
      return null;
    }
  }

  async function allowDevices(withCamera) {
    if (withCamera) {
      const both = await getMedia({ audio: true, video: true });
      if (both) {
        for (const t of both.getVideoTracks()) t.stop();
        S.camOn = true;
        S.mic = new MediaStream(both.getAudioTracks());
      }
    }
    if (!S.mic) S.mic = await getMedia({ audio: true });
    S.micOn = !!S.mic;
    applyMute(!S.micOn);
  }

  function applyMute(muted) {
    S.muted = muted || !S.mic;
    if (S.mic) for (const t of S.mic.getAudioTracks()) t.enabled = !S.muted;
  }

  // ------------------------------------------------------------------ controlled inputs
  /**
   * A React-style controlled input: the app's state changes only on input that follows a
   * real key press; a value set any other way (a script, `fill()`, a synthetic event) is
   * put back to the state on the next input, and never reaches the app.
   */
  function controlled(input, initial, onChange) {
    let value = initial;
    let keyed = false;
    input.value = value;
    input.addEventListener('keydown', (e) => {
      keyed = e.isTrusted;
      setTimeout(() => (keyed = false), 0);
    });
    input.addEventListener('input', (e) => {
      if (keyed && e.isTrusted) {
        value = input.value;
        onChange(value);
      } else {
        input.value = value;
      }
      keyed = false;
    });
  }

  // ------------------------------------------------------------------ screens
  function render(html, title) {
    root.innerHTML = html;
    document.title = title || 'Zoom';
  }

  function show(screen, msg) {
    const prev = S.screen;
    S.screen = screen;
    switch (screen) {
      case 'invalid':
        return render(
          `<div class="error-page"><h3 class="error-page__title">Invalid meeting ID</h3>` +
            `<p>This meeting ID is not valid. Please check and try again.</p></div>`,
          'Zoom',
        );
      case 'error3001':
        return render(
          `<div class="error-page"><h3 class="error-page__title">This meeting link is invalid (3,001)</h3>` +
            `<p>Please check the meeting link and try again.</p></div>`,
          'Error - Zoom',
        );
      case 'prejoin':
        return showPrejoin(msg);
      case 'joining':
        return render(`<div class="meeting-app"><div class="loading-layer"><p>Joining Meeting...</p></div></div>`, 'Zoom Meeting');
      case 'notstarted':
        return render(
          `<div class="meeting-app"><div class="wr-container">` +
            `<h2 class="wr-title">Waiting for the host to start this meeting</h2>` +
            `<p class="wr-topic">${esc(S.settings.topic)}</p>` +
            `<p>${new Date().toLocaleDateString('en-US', { month: 'long', day: 'numeric', year: 'numeric' })}</p>` +
            `<button type="button" class="zm-btn zm-btn--default">Test Computer Audio</button>` +
            `<button type="button" class="zm-btn wr-leave-btn" data-act="wr-leave">Leave</button>` +
            `</div></div>`,
          'Zoom Meeting',
        );
      case 'waiting':
        return render(
          `<div class="meeting-app"><div class="wr-container">` +
            `<div class="wr-header"><button type="button" class="zm-btn wr-leave-btn" data-act="wr-leave">Leave</button></div>` +
            `<h2 class="wr-title">Please wait, the meeting host will let you in soon.</h2>` +
            `<p class="wr-topic">${esc(S.settings.topic)}</p>` +
            (msg && msg.hostPresent ? `<p class="wr-tip">Host has joined. We've let them know you're here.</p>` : '') +
            `</div></div>`,
          'Zoom Meeting',
        );
      case 'botwall':
        return render(
          `<div class="bot-wall">` +
            `<h3>We detected you may be a bot.</h3>` +
            `<p>Automated bots aren’t allowed to join this meeting or webinar and must use Zoom RTMS. ` +
            `If you’re not a bot, please sign in to join.</p>` +
            `<iframe title="reCAPTCHA" src="/__replica/recaptcha/api2/anchor?k=6LreplicaKey" width="304" height="78"></iframe>` +
            `<div><button type="button" class="zm-btn zm-btn--primary">Sign in to join</button></div>` +
            `</div>`,
          'Zoom',
        );
      case 'incall':
        return showCall();
      case 'ended':
      case 'removed':
      case 'timeout':
        stopMedia();
        if (prev !== 'incall') root.innerHTML = `<div class="meeting-app"></div>`;
        return endModal(screen);
    }
  }

  const END_MODALS = {
    ended: { label: 'Meeting is end now', title: 'This meeting has been ended by host', body: '' },
    removed: { label: 'Removed', title: 'You have been removed from this meeting', body: 'The host or co-host removed you from the meeting.' },
    timeout: { label: 'Waiting room timeout', title: 'Waiting room timeout', body: 'The host did not let you in. Please try joining again later.' },
  };

  function endModal(kind) {
    const m = END_MODALS[kind];
    const mask = document.createElement('div');
    mask.className = 'zm-modal-mask';
    mask.innerHTML =
      `<div class="zm-modal zm-modal-legacy" role="dialog" aria-modal="true" aria-label="${esc(m.label)}">` +
      `<div class="zm-modal-body"><div class="zm-modal-body-title">${esc(m.title)}</div>` +
      (m.body ? `<div class="zm-modal-body-content">${esc(m.body)}</div>` : '') +
      `<div class="zm-modal-footer"><button type="button" class="zm-btn zm-btn-legacy zm-btn--primary" data-act="end-ok">OK</button></div>` +
      `</div></div>`;
    document.body.appendChild(mask);
  }

  // ---- pre-join
  function cookieBannerHtml() {
    return (
      `<div id="onetrust-consent-sdk"><div class="onetrust-pc-dark-filter"></div>` +
      `<div id="onetrust-banner-sdk" role="region" aria-label="Cookie banner">` +
      `<p id="onetrust-policy-text">By clicking “Accept Cookies”, you agree to the storing of cookies on your device to enhance site navigation, analyze site usage, and assist in our marketing efforts.</p>` +
      `<button id="onetrust-reject-all-handler" type="button" data-act="cookies">Reject All</button> ` +
      `<button id="onetrust-accept-btn-handler" type="button" data-act="cookies">Accept Cookies</button>` +
      `</div></div>`
    );
  }

  function permissionDialogHtml(step) {
    const title = step === 1 ? 'Do you want people to see and hear you in the meeting?' : 'Do you want people to hear you in the meeting?';
    return (
      `<div class="zm-modal-mask permission-mask"><div class="zm-modal pepc-permission-dialog" role="dialog" aria-modal="true">` +
      `<div class="pepc-permission-dialog__title">${title}</div>` +
      `<p>You can still turn off your microphone and camera anytime in the meeting.</p>` +
      `<button type="button" class="zm-btn pepc-permission-dialog__footer-button--allow" data-act="perm-allow" data-step="${step}">Allow</button>` +
      `<button type="button" class="zm-btn zm-btn--default" data-act="perm-skip" data-step="${step}">Continue without microphone and camera</button>` +
      `</div></div>`
    );
  }

  function showPrejoin(msg) {
    const st = S.settings;
    S.passcodeField = !!(msg && msg.passcodeField);
    if (msg && msg.name) S.name = msg.name;
    const error = (msg && msg.error) || '';
    const firstTime = !S.permissionsAsked;
    let html;
    if (VARIANT === 'new') {
      html =
        `<div class="preview-new-flow" id="prejoin">` +
        `<div class="preview-video-container"><div class="preview-video__avatar">${esc(initials(S.name) || '?')}</div>` +
        `<div class="preview-video__control-wrap">` +
        `<button type="button" id="preview-audio-control-button" class="preview-video__control-button" data-act="preview-mic"></button>` +
        `<button type="button" id="preview-video-control-button" class="preview-video__control-button" data-act="preview-cam"></button>` +
        `</div></div>` +
        `<div class="preview-meeting-info">` +
        `<h1 class="preview-meeting-info__title">Enter Meeting Info</h1>` +
        (S.passcodeField
          ? `<input id="input-for-pwd" type="password" class="preview-meeting-info-field-input" placeholder="Meeting Passcode" aria-label="Meeting Passcode" autocomplete="off">`
          : '') +
        `<input id="input-for-name" type="text" class="preview-meeting-info-field-input" placeholder="Your Name" aria-label="Your Name" maxlength="64" autocomplete="off">` +
        `<div class="preview-meeting-info__error" role="alert">${esc(error)}</div>` +
        `<button type="button" class="zm-btn preview-join-button zm-btn--default zm-btn__outline--blue disabled" data-act="join">Join</button>` +
        `<p class="preview-meeting-info__agreement">By clicking "Join", you agree to our Terms of Service and Privacy Statement</p>` +
        `</div></div>`;
    } else {
      html =
        `<div class="wc-join" id="prejoin"><form id="join-form" autocomplete="off">` +
        `<h1 class="wc-join__title">Join Meeting</h1>` +
        (S.passcodeField ? `<input id="inputpasscode" type="password" class="form-control" placeholder="Meeting Passcode">` : '') +
        `<input id="inputname" type="text" class="form-control" placeholder="Your Name" maxlength="64">` +
        `<p class="error-msg" role="alert">${esc(error)}</p>` +
        `<button type="button" id="joinBtn" class="btn btn-primary submit" data-act="join" disabled>Join</button>` +
        `</form></div>`;
    }
    render(html + (st.cookieBanner && !S.bannerAnswered ? cookieBannerHtml() : ''), 'Zoom');
    S.bannerOpen = st.cookieBanner && !S.bannerAnswered;
    document.getElementById('prejoin').inert = S.bannerOpen;

    const nameInput = root.querySelector('#input-for-name, #inputname');
    controlled(nameInput, S.name, (v) => {
      S.name = v;
      updateJoin();
    });
    const pwdInput = root.querySelector('#input-for-pwd, #inputpasscode');
    S.passcode = '';
    if (pwdInput) controlled(pwdInput, '', (v) => {
      S.passcode = v;
      updateJoin();
    });
    updateJoin();
    refreshPreview();

    if (firstTime) {
      S.permissionsAsked = true;
      if (st.permissionDialogs > 0) showPermissionDialog(1);
      // No dialog: the browser remembers an earlier grant, the devices just come on.
      else allowDevices(VARIANT === 'new').then(refreshPreview);
    }
  }

  function showPermissionDialog(step) {
    document.body.insertAdjacentHTML('beforeend', permissionDialogHtml(step));
  }

  function closePermissionDialog() {
    for (const el of document.querySelectorAll('.permission-mask')) el.remove();
  }

  function updateJoin() {
    const button = root.querySelector('[data-act="join"]');
    if (!button) return;
    const ok = S.name.trim() !== '' && (!S.passcodeField || S.passcode !== '');
    if (VARIANT === 'new') button.classList.toggle('disabled', !ok);
    else button.disabled = !ok;
  }

  function refreshPreview() {
    const mic = document.getElementById('preview-audio-control-button');
    const cam = document.getElementById('preview-video-control-button');
    if (mic) {
      mic.setAttribute('aria-label', S.mic && !S.muted ? 'Mute' : 'Unmute');
      mic.textContent = S.mic && !S.muted ? 'Mute' : 'Unmute';
    }
    if (cam) {
      cam.setAttribute('aria-label', S.camOn ? 'Stop Video' : 'Start Video');
      cam.textContent = S.camOn ? 'Stop Video' : 'Start Video';
    }
  }

  function join() {
    const button = root.querySelector('[data-act="join"]');
    if (!button || button.disabled || button.classList.contains('disabled')) return;
    if (VARIANT === 'new') button.classList.add('disabled');
    else button.disabled = true;
    send({ t: 'join', name: S.name, ...(S.passcodeField ? { passcode: S.passcode } : {}) });
  }

  // ---- the call
  function footerHtml() {
    return (
      `<div id="wc-footer" class="footer"><div id="foot-bar" class="footer__inner">` +
      `<div class="join-audio-container"><button type="button" class="footer-button-base__button join-audio-container__btn" data-act="audio"></button></div>` +
      `<div class="send-video-container"><button type="button" class="footer-button-base__button send-video-container__btn" aria-label="start sending my video" data-act="noop">Start Video</button></div>` +
      `<button type="button" class="footer-button-base__button" data-act="participants" data-participants-button></button>` +
      `<button type="button" class="footer-button-base__button" aria-label="open the chat panel" data-act="chat" data-chat-button><span class="footer-button-base__button-label">Chat</span></button>` +
      `<button type="button" class="footer-button-base__button" aria-label="More meeting control " data-act="noop"><span class="footer-button-base__button-label">More</span></button>` +
      `<button type="button" class="footer-button-base__button footer-button__button ax-outline" aria-label="Leave" data-act="leave"><span class="footer-button-base__button-label">Leave</span></button>` +
      `</div></div>`
    );
  }

  function showCall() {
    render(
      `<div class="meeting-app">` +
        `<div id="wc-container-left">` +
        `<div class="meeting-client-inner"><div id="video-layout"></div></div>` +
        `<div id="toast-slot"></div>` +
        footerHtml() +
        `<div id="leave-slot"></div>` +
        `</div>` +
        `<div id="wc-container-right"></div>` +
        `</div>`,
      'Zoom Meeting',
    );
    closePermissionDialog();
    syncCall();
    refreshAudioButton();
    armFooterAutoHide();
    if (S.settings.audioPrompt === 'dialog') setTimeout(() => S.screen === 'incall' && !S.audioJoined && showAudioDialog(), 300);
  }

  function syncCall() {
    renderVideo();
    refreshParticipantsButton();
    renderRightPanels();
  }

  function memberFrame(cls, m, active) {
    return (
      `<div class="${cls}${active ? ` ${cls}--active` : ''}" data-member="${esc(m.id)}">` +
      `<div class="video-avatar__avatar"><div class="video-avatar__avatar-img">${esc(initials(m.name))}</div>` +
      `<div class="video-avatar__avatar-footer"><span>${esc(m.name)}</span></div></div>` +
      `</div>`
    );
  }

  function renderVideo() {
    const layout = document.getElementById('video-layout');
    if (!layout) return;
    const members = S.members;
    if (S.settings.view === 'gallery') {
      layout.innerHTML =
        `<div class="gallery-video-container__wrap">` +
        members.map((m) => memberFrame('gallery-video-container__video-frame', m, S.speaking.has(m.id))).join('') +
        `</div>`;
      return;
    }
    // Speaker view: the big frame keeps whoever spoke last; the bar marks who speaks now.
    const selfId = S.self && S.self.id;
    const main =
      members.find((m) => m.id === S.active) || members.find((m) => m.id !== selfId) || members.find((m) => m.id === selfId);
    layout.innerHTML =
      `<div class="speaker-bar-container__horizontal-view-wrap">` +
      members.map((m) => memberFrame('speaker-bar-container__video-frame', m, S.speaking.has(m.id))).join('') +
      `</div>` +
      `<div class="speaker-active-container__wrap">` +
      (main ? memberFrame('speaker-active-container__video-frame', main, false) : '') +
      `</div>`;
  }

  function refreshParticipantsButton() {
    const b = root.querySelector('[data-participants-button]');
    if (!b) return;
    const n = S.members.length;
    b.setAttribute('aria-label', `${S.participantsOpen ? 'close' : 'open'} the participants list pane,[${n}] particpants`);
    b.innerHTML = `<span class="footer-button__number-counter"><span>${n}</span></span><span class="footer-button-base__button-label">Participants</span>`;
  }

  function refreshAudioButton() {
    const b = root.querySelector('.join-audio-container__btn');
    if (!b) return;
    if (!S.audioJoined) {
      b.setAttribute('aria-label', 'Join Audio');
      b.textContent = 'Join Audio';
    } else {
      b.setAttribute('aria-label', S.muted ? 'unmute my microphone' : 'mute my microphone');
      b.textContent = S.muted ? 'Unmute' : 'Mute';
    }
  }

  function participantItem(m) {
    const selfId = S.self && S.self.id;
    const labels = [m.role === 'host' ? 'Host' : null, m.id === selfId ? 'me' : null].filter(Boolean);
    const label = labels.length ? `(${labels.join(', ').replace(/^me$/, 'Me')})` : '';
    const audio = m.audio ? `computer audio ${m.muted ? 'muted' : 'unmuted'}` : 'no audio connected';
    return (
      `<li class="participants-li" aria-label="${esc(m.name)}${label ? ` ${esc(label)}` : ''}, ${audio}, video off">` +
      `<div class="participants-item__item-layout"><div class="participants-item__left-section">` +
      `<span class="participants-item__display-name">${esc(m.name)}</span>` +
      (label ? ` <span class="participants-item__name-label">${esc(label)}</span>` : '') +
      `</div><div class="participants-item__right-section"><span class="participants-icon__participants-${m.muted ? 'mute' : 'unmute'}"></span></div></div></li>`
    );
  }

  function renderRightPanels() {
    const right = document.getElementById('wc-container-right');
    if (!right) return;
    let participants = right.querySelector('.participants-section-container');
    if (S.participantsOpen) {
      if (!participants) {
        right.insertAdjacentHTML('afterbegin', `<div class="participants-section-container"></div>`);
        participants = right.querySelector('.participants-section-container');
      }
      participants.innerHTML =
        `<div class="participants-header__title">Participants (${S.members.length})</div>` +
        `<div class="participants-list-container"><ul id="participants-ul" class="participants-ul">${S.members.map(participantItem).join('')}</ul></div>`;
    } else if (participants) {
      participants.remove();
    }
    let chat = right.querySelector('.chat-container');
    if (S.chatOpen && !chat) {
      const editor =
        VARIANT === 'new'
          ? `<div class="chat-rtf-box__editor-outer"><div class="tiptap ProseMirror" contenteditable="true" role="textbox" aria-label="Type message here ..." data-placeholder="Type message here ..."></div></div>`
          : `<textarea class="chat-box__chat-textarea" placeholder="Type message here ..." rows="2"></textarea>`;
      right.insertAdjacentHTML(
        'beforeend',
        `<div class="chat-container" id="chat"><div class="chat-header__title">Meeting Chat</div>` +
          `<div aria-label="Chat Message List" class="chat-container__chat-list"></div>` +
          `<div class="chat-container__chat-control">${editor}</div></div>`,
      );
      renderChatMessages();
    } else if (!S.chatOpen && chat) {
      chat.remove();
    }
    const chatButton = root.querySelector('[data-chat-button]');
    if (chatButton) chatButton.setAttribute('aria-label', `${S.chatOpen ? 'close' : 'open'} the chat panel`);
  }

  function renderChatMessages() {
    const list = document.querySelector('.chat-container__chat-list');
    if (!list) return;
    list.innerHTML = S.messages
      .map(
        (m, i) =>
          `<div id="chat-message-${i}" class="new-chat-message__container">` +
          `<span class="chat-item__sender">${esc(m.from)}</span>` +
          `<div class="new-chat-message__text-content">${esc(m.text)}</div></div>`,
      )
      .join('');
  }

  function showAudioDialog() {
    if (document.querySelector('.join-dialog')) return;
    const text = VARIANT === 'new' ? 'Join Audio by Computer' : 'Join with Computer Audio';
    document.body.insertAdjacentHTML(
      'beforeend',
      `<div class="zm-modal-mask audio-mask"><div class="zm-modal join-dialog" role="dialog" aria-label="Join Audio">` +
        `<div class="join-dialog__title">Join Audio</div>` +
        `<button type="button" class="zm-btn join-audio-by-voip__join-btn zm-btn--primary" data-act="join-audio">${text}</button>` +
        `<button type="button" class="zm-btn zm-btn--link" data-act="noop">Test speaker and microphone</button>` +
        `<button type="button" class="zm-modal-close" aria-label="close" data-act="audio-close">×</button>` +
        `</div></div>`,
    );
  }

  function joinAudio() {
    for (const el of document.querySelectorAll('.audio-mask')) el.remove();
    if (S.audioJoined) return;
    S.audioJoined = true;
    // The classic client turns the microphone on when computer audio joins.
    if (VARIANT === 'classic') applyMute(false);
    else applyMute(S.muted);
    link.setLocalStream(S.mic);
    send({ t: 'audio', muted: S.muted });
    refreshAudioButton();
    toast('Connecting to audio, please wait...', 1500);
  }

  function toast(text, ms) {
    const slot = document.getElementById('toast-slot');
    if (!slot) return;
    slot.innerHTML = `<div class="notification-message-wrap" role="status">${esc(text)}</div>`;
    setTimeout(() => slot.replaceChildren(), ms);
  }

  let hideTimer = null;
  function armFooterAutoHide() {
    const footer = document.getElementById('wc-footer');
    if (!footer) return;
    footer.classList.remove('footer--hidden');
    clearTimeout(hideTimer);
    hideTimer = setTimeout(() => footer.classList.add('footer--hidden'), 3000);
  }
  document.addEventListener('mousemove', () => {
    if (S.screen === 'incall') armFooterAutoHide();
  });

  function leaveTo(url) {
    send({ t: 'leave' });
    stopMedia();
    setTimeout(() => (location.href = url), 50);
  }

  // ------------------------------------------------------------------ events
  document.addEventListener('keydown', (e) => {
    const t = e.target;
    if (!(t instanceof Element)) return;
    if (e.key === 'Enter' && t.matches('#input-for-name, #inputname, #input-for-pwd, #inputpasscode')) {
      e.preventDefault();
      join();
    }
    if (e.key === 'Enter' && !e.shiftKey && t.closest('.chat-container__chat-control')) {
      e.preventDefault();
      const text = ('value' in t ? t.value : t.textContent || '').trim();
      if (!text) return;
      send({ t: 'chat', text });
      if ('value' in t) t.value = '';
      else t.textContent = '';
    }
  });

  document.addEventListener('click', async (e) => {
    if (audioCtx && audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
    const el = e.target instanceof Element ? e.target.closest('[data-act]') : null;
    if (!el) return;
    switch (el.dataset.act) {
      case 'cookies': {
        S.bannerAnswered = true;
        S.bannerOpen = false;
        document.getElementById('onetrust-consent-sdk')?.remove();
        const card = document.getElementById('prejoin');
        if (card) card.inert = false;
        return;
      }
      case 'perm-allow':
      case 'perm-skip': {
        const step = Number(el.dataset.step);
        closePermissionDialog();
        if (el.dataset.act === 'perm-allow') await allowDevices(step === 1);
        refreshPreview();
        if (step === 1 && S.settings.permissionDialogs > 1 && S.screen === 'prejoin') showPermissionDialog(2);
        return;
      }
      case 'preview-mic':
        if (!S.mic) await allowDevices(false);
        else applyMute(!S.muted);
        refreshPreview();
        return;
      case 'preview-cam':
        S.camOn = !S.camOn;
        refreshPreview();
        return;
      case 'join':
        join();
        return;
      case 'join-audio':
        joinAudio();
        return;
      case 'audio-close':
        for (const m of document.querySelectorAll('.audio-mask')) m.remove();
        return;
      case 'audio':
        if (!S.audioJoined) {
          if (S.settings.audioPrompt === 'dialog') showAudioDialog();
          else joinAudio();
        } else {
          applyMute(!S.muted);
          send({ t: 'mute', muted: S.muted });
          refreshAudioButton();
        }
        return;
      case 'participants':
        S.participantsOpen = !S.participantsOpen;
        refreshParticipantsButton();
        renderRightPanels();
        return;
      case 'chat':
        S.chatOpen = !S.chatOpen;
        renderRightPanels();
        return;
      case 'leave': {
        const slot = document.getElementById('leave-slot');
        if (!slot) return;
        slot.innerHTML = slot.innerHTML
          ? ''
          : `<div class="leave-meeting-options"><button type="button" class="zm-btn leave-meeting-options__btn leave-meeting-options__btn--default leave-meeting-options__btn--danger" data-act="leave-confirm">Leave Meeting</button></div>`;
        return;
      }
      case 'leave-confirm':
        leaveTo(`/postattendee?mn=${meetingId}`);
        return;
      case 'wr-leave':
        leaveTo(`/postattendee?mn=${meetingId}`);
        return;
      case 'end-ok':
        location.href = `/postattendee?mn=${meetingId}`;
        return;
    }
  });
})();
