/**
 * What the bot reads from a Zoom web-client page, as one function evaluated in the page
 * (one round trip per observation). Kept as source text so no bundler helper leaks into
 * the page. Texts and selectors: research/platform-mechanics.md §3, plus what Vexa and
 * Meeting-BaaS learned the hard way:
 * - the waiting room renders inside `.meeting-app`, so only the footer's
 *   `button[aria-label="Leave"]` proves admission — by presence, because the footer
 *   auto-hides (Vexa #966);
 * - "please wait" toasts also appear in the call, so waiting texts only count without it;
 * - chat and participant names may say anything ("…removed from the meeting"), so their
 *   text is left out of the end-screen scan (Meeting-BaaS chat-selectors.ts);
 * - the active-speaker container keeps the last speaker after they stop, so `speaking`
 *   comes from the speaker-bar / gallery frames marked `--active` only.
 */
export type ZoomEndKind = 'bot_wall' | 'sign_in' | 'invalid' | 'passcode_wrong' | 'ended' | 'removed' | 'waiting_timeout';

export interface ZoomProbe {
  title: string;
  /** The legacy launch flow hosts the client in `iframe#webclient`: probe that frame instead. */
  clientIframe: boolean;
  end: { kind: ZoomEndKind; reason: string } | null;
  /** `error`: "This meeting link is invalid (3,001)" (the page must be opened again); `waiting`: "Waiting for the host to start this meeting". */
  notStarted: 'error' | 'waiting' | null;
  waitingRoom: boolean;
  joining: boolean;
  inCall: boolean;
  /** The `/j/<id>` launch page: where "Join from your browser" points (null until "Launch Meeting" was clicked). */
  landing: { joinHref: string | null } | null;
  prejoin: boolean;
  /** In the call: computer audio joined (the footer audio button no longer says "Join Audio"). */
  audioJoined: boolean;
  /** In the call: the microphone is live ("mute my microphone"). */
  micLive: boolean;
  participantsPanel: boolean;
  participants: { platformId: string; name: string; isSelf: boolean }[];
  count: number | null;
  speaking: string[];
}

export const ZOOM_PROBE = String.raw`((botName) => {
  const $ = (sel) => document.querySelector(sel);
  const $$ = (sel) => Array.from(document.querySelectorAll(sel));
  const clean = (s) => String(s || '').replace(/\s+/g, ' ').trim();
  const norm = (s) => String(s || '').toLowerCase().replace(/[\u2018\u2019]/g, "'");

  // Page text without what people typed (chat) or are called (participants, tiles).
  let text = document.body ? document.body.innerText : '';
  for (const el of $$('.chat-container, #chat, [aria-label="Chat Message List"], .participants-section-container, #participants-ul')) {
    const t = el.innerText;
    if (t) text = text.split(t).join(' ');
  }
  const low = norm(text);
  const has = (s) => low.includes(s);
  const first = (list) => list.find(has);

  const ENDS = [
    ['bot_wall', ["automated bots aren't allowed", 'detected you may be a bot', 'must use zoom rtms', 'type the characters you see']],
    ['sign_in', ['only authenticated users can join', 'sign in to join this meeting', 'this meeting requires authentication']],
    ['invalid', ['invalid meeting id', 'this meeting id is not valid', 'meeting does not exist']],
    ['passcode_wrong', ['passcode wrong', 'wrong passcode', 'incorrect passcode']],
    ['ended', ['this meeting has been ended by host', 'meeting has been ended by the host', 'host ended the meeting', 'this meeting has ended']],
    ['removed', ['you have been removed', 'removed you from the meeting', 'host has removed you']],
    ['waiting_timeout', ['waiting room timeout', 'did not let you in']],
  ];
  let end = null;
  for (const [kind, texts] of ENDS) {
    const hit = first(texts);
    if (hit) { end = { kind, reason: hit }; break; }
  }
  const visible = (el) => !!el && !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  if (!end && $$('iframe[src*="recaptcha"], .component_smart_captcha, .CaptchaContainer').some(visible)) {
    end = { kind: 'bot_wall', reason: 'reCAPTCHA challenge' };
  }
  if (!end && $('[aria-label="Meeting is end now"]')) end = { kind: 'ended', reason: 'Meeting is end now' };

  const leave = $('button[aria-label="Leave"]');
  const nameInput = $('#input-for-name, #inputname, input[placeholder="Your Name" i]');
  const prejoin = !!nameInput || !!$('button.preview-join-button, #joinBtn');
  const inCall = !!leave && !prejoin;

  let notStarted = null;
  if (has('this meeting link is invalid')) notStarted = 'error';
  else if (has('waiting for the host to start')) notStarted = 'waiting';
  const waitingRoom = !inCall && ['please wait, the meeting host will let you in soon', "host has joined. we've let them know you're here", 'the host will let you in soon'].some(has);
  const joining = !inCall && ['joining meeting', 'connecting to the meeting'].some(has);

  let landing = null;
  const launch = $$('button, a').find((b) => /^launch meeting$/i.test(clean(b.textContent)));
  const browserLink = $$('a').find((a) => /join from your browser/i.test(clean(a.textContent)));
  if (launch || browserLink) landing = { joinHref: browserLink && visible(browserLink) ? browserLink.href : null };

  const audioButton = $('button.join-audio-container__btn');
  const audioLabel = audioButton ? norm(audioButton.getAttribute('aria-label')) : '';
  const audioJoined = !!audioButton && audioLabel !== 'join audio';
  const micLive = !!$('[aria-label="mute my microphone"]');

  // Participants: the panel when it is open, else the video frames.
  const participants = [];
  const seen = new Set();
  const panelItems = $$('.participants-section-container .participants-item__item-layout, #participants-ul li');
  for (const item of panelItems) {
    const nameEl = item.querySelector('.participants-item__display-name');
    const name = clean(nameEl && nameEl.textContent);
    if (!name || seen.has(name)) continue;
    seen.add(name);
    const label = clean((item.querySelector('.participants-item__name-label') || {}).textContent);
    participants.push({ platformId: name, name, isSelf: /\bme\b/i.test(label) });
  }
  if (!participants.length && inCall) {
    for (const span of $$('.speaker-bar-container__video-frame .video-avatar__avatar-footer span, .gallery-video-container__video-frame .video-avatar__avatar-footer span')) {
      const name = clean(span.textContent);
      if (!name || seen.has(name)) continue;
      seen.add(name);
      participants.push({ platformId: name, name, isSelf: name === botName });
    }
  }

  let count = null;
  const countButton = $('button[aria-label*="participants list" i]');
  const m = countButton && /\[(\d+)\]/.exec(countButton.getAttribute('aria-label') || '');
  if (m) count = Number(m[1]);
  else {
    const b = $$('#wc-footer button, #foot-bar button').find((x) => /^\d+/.test(clean(x.innerText)));
    if (b) count = Number(/^\d+/.exec(clean(b.innerText))[0]);
  }

  const speaking = [];
  for (const span of $$('.speaker-bar-container__video-frame--active .video-avatar__avatar-footer span, .gallery-video-container__video-frame--active .video-avatar__avatar-footer span')) {
    const name = clean(span.textContent);
    if (name && !speaking.includes(name)) speaking.push(name);
  }

  return {
    title: document.title,
    clientIframe: !!$('iframe#webclient'),
    end, notStarted, waitingRoom, joining, inCall, landing, prejoin: prejoin && !end,
    audioJoined, micLive,
    participantsPanel: !!$('.participants-section-container'),
    participants: inCall ? participants : [],
    count: inCall ? count : null,
    speaking: inCall ? speaking : [],
  };
})`;
