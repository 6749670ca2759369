/**
 * What the bot reads from a Google Meet page, as one function evaluated in the page (one
 * round trip per observation). Kept as source text so no bundler helper leaks into the page.
 * Texts and selectors: research/platform-mechanics.md §1.2–1.4.
 */
export interface MeetProbe {
  /** An end screen, by sub_code, with the text that proved it. */
  end: { subCode: string; reason: string } | null;
  /** "You left the meeting": after a denial or a removal; the runner knows which. */
  leftScreen: boolean;
  signInRequired: boolean;
  lobby: boolean;
  inCall: boolean;
  prejoin: boolean;
  participants: { platformId: string; name: string; isSelf: boolean }[];
  count: number | null;
  speaking: string[];
}

export const MEET_PROBE = String.raw`(() => {
  const body = document.body;
  const text = body ? body.innerText : '';
  const has = (s) => text.includes(s);
  const visible = (el) => !!el && !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const $ = (sel) => document.querySelector(sel);
  const $$ = (sel) => Array.from(document.querySelectorAll(sel));

  const ENDS = [
    ['removed_from_call', ["You've been removed from the meeting", 'You were removed from the meeting', "You can't rejoin this meeting"]],
    ['meeting_ended', ['Your host ended the meeting for everyone', 'The call ended', 'This call has ended']],
    ['denied_entry', ['Someone in the call denied your request to join', 'You can’t join this call because someone in the call denied']],
    ['waiting_room_timeout', ['No one responded to your request to join the call']],
    ['bot_detected', ["You can't join this video call", 'You can’t join this video call', 'There is a problem connecting to this video call']],
    ['meeting_not_found', ['Check your meeting code', 'Invalid video call name', 'Your meeting code has expired', 'This meeting link is invalid']],
  ];
  let end = null;
  for (const [subCode, texts] of ENDS) {
    const hit = texts.find(has);
    if (hit) { end = { subCode, reason: hit }; break; }
  }
  const captcha = $$('iframe[src*="recaptcha"]').some(visible);
  if (!end && captcha) end = { subCode: 'bot_detected', reason: 'reCAPTCHA challenge' };

  const signInRequired = $$('h1').some((h) => /Sign in/.test(h.textContent || '')) && has('your Google Account');

  const lobby = ['Asking to be let in', 'You’ll join the call when someone lets you in', "You'll join the call when someone lets you in",
    'Please wait until a meeting host brings you into the call', 'Waiting for the host to join'].some(has);

  // In-call signals. "Leave call" and the mic/camera toggles exist in the lobby too, so they prove nothing.
  const peopleButton = $$('button[aria-label^="People"], button[aria-label^="Show everyone"]').find(visible);
  const avatarCount = $('[data-avatar-count]');
  const chatButton = $$('button[aria-label="Chat with everyone"]').find(visible);
  const controls = $('div[role="region"][aria-label="Call controls"]');
  const signals = [peopleButton, avatarCount, chatButton, controls].filter(Boolean).length;
  const inCall = !lobby && !end && (Boolean(chatButton) || signals >= 2);

  let count = null;
  const m = peopleButton && /(\d+)/.exec(peopleButton.getAttribute('aria-label') || '');
  if (m) count = Number(m[1]);
  else if (avatarCount) {
    const n = Number(avatarCount.getAttribute('data-avatar-count'));
    if (Number.isFinite(n)) count = n;
  }

  const selfEl = $('[data-self-name]');
  const selfName = selfEl ? selfEl.getAttribute('data-self-name') : null;
  const participants = [];
  const speaking = [];
  const seen = new Set();
  if (inCall) {
    for (const tile of $$('[data-participant-id]')) {
      const id = tile.getAttribute('data-participant-id');
      if (!id || seen.has(id)) continue;
      const nameEl = tile.querySelector('span.notranslate') || tile.querySelector('[data-self-name]');
      const name = ((nameEl && nameEl.textContent) || '').trim();
      if (!name) continue;
      seen.add(id);
      const isSelf = tile.hasAttribute('data-self-name') || !!tile.querySelector('[data-self-name]') || (selfName !== null && name === selfName);
      participants.push({ platformId: id, name, isSelf });
      const indicator = tile.querySelector('.Oaajhc, .HX2H7, .wEsLMd, .OgVli');
      const level = tile.querySelector('[data-audio-level]');
      if (indicator || (level && Number(level.getAttribute('data-audio-level')) > 0)) speaking.push(name);
    }
  }

  const prejoin = !lobby && !inCall && !end && (
    !!$('input[type="text"][aria-label="Your name"]') ||
    $$('button').some((b) => /^(Ask to join|Join now|Join anyway|Ask to join anyway|Join here too|Switch here)$/.test((b.textContent || '').trim())));

  return { end, leftScreen: has('You left the meeting'), signInRequired, lobby, inCall, prejoin, participants, count, speaking };
})()`;
