/**
 * What the bot reads from one frame of a Microsoft Teams page, as one function evaluated in
 * the frame (the meeting may run in the top document or inside light-meetings' iframe, so the
 * adapter evaluates it in every frame and merges). Kept as source text so no bundler helper
 * leaks into the page. Texts and selectors: research/platform-mechanics.md §2.2–2.5.
 *
 * Deliberately NOT used for removal or denial: `[role="alert"]`, `.error-message`,
 * `[data-tid*="retry"]`, an "OK" button — Teams shows such banners about 1.5 s after admission
 * (Vexa #123, #600). End screens are read from their texts, and only once the call toolbar is
 * gone, so a chat message quoting one of them cannot end the bot.
 */
export interface TeamsRosterEntry {
  platformId: string;
  name: string;
  /** The roster marks the entry as the viewer ("You"). */
  isSelf: boolean;
}

export interface TeamsFrameProbe {
  /** An end screen, by sub_code, with the text that proved it. */
  end: { subCode: string; reason: string } | null;
  /** Why the page asks to sign in, or null. */
  signIn: string | null;
  /** "You left the meeting": the runner knows why. */
  leftScreen: boolean;
  /** The launcher's "join in this browser" choice is showing. */
  launcher: boolean;
  /** "Continue without audio or video" is showing. */
  avModal: boolean;
  /** The pre-join screen (name field or "Join now"). */
  prejoin: boolean;
  /** The lobby text that proved the lobby, or null. */
  lobby: string | null;
  inCall: boolean;
  /** Entries of the open People pane; null when it is not open. */
  roster: TeamsRosterEntry[] | null;
  /** Names on the call's video tiles (others; Teams shows no tile for the viewer). */
  tiles: string[];
  count: number | null;
  /** Names whose tile carries the voice-level outline. */
  speaking: string[];
  /** Which side pane is open. */
  pane: 'roster' | 'chat' | null;
}

export const TEAMS_PROBE = String.raw`(() => {
  const body = document.body;
  const norm = (s) => (s || '').replace(/[\u2018\u2019]/g, "'").replace(/\s+/g, ' ').trim();
  const text = norm(body ? body.innerText : '');
  const lower = text.toLowerCase();
  const has = (s) => lower.includes(s.toLowerCase());
  const visible = (el) => !!el && !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const $ = (sel) => document.querySelector(sel);
  const $$ = (sel) => Array.from(document.querySelectorAll(sel));
  const shown = (sel) => $$(sel).some(visible);
  const buttonNamed = (re) => $$('button, [role="button"]').some((b) => visible(b) && (re.test(norm(b.getAttribute('aria-label'))) || re.test(norm(b.innerText))));

  // The call toolbar: "More" exists only in the call; the lobby shows a hang-up button and the
  // device buttons too, so those alone prove nothing.
  const moreButton = shown('#callingButtons-showMoreBtn');
  const hangup = shown('#hangup-button, button[data-tid="hangup-main-btn"]');
  const rosterButton = $$('#roster-button, button[data-tid="roster-button"]').find(visible) || null;
  const chatButton = shown('#chat-button, button[data-tid="chat-button"]');
  const callUi = moreButton || (hangup && (Boolean(rosterButton) || chatButton));

  const LOBBY = ['Someone will let you in soon', 'Someone will let you in shortly', 'Waiting to be admitted',
    'Your request to join has been sent', "We've let people in the meeting know you're waiting", 'Waiting for someone to let you in',
    "You're in the lobby", 'Please wait until someone admits you'];
  const lobby = LOBBY.find(has) || null;

  const ENDS = [
    ['removed_from_call', ["You've been removed from this meeting", 'You have been removed from this meeting', 'You were removed from this meeting',
      'You were removed from the meeting', 'removed you from the meeting']],
    ['denied_entry', ['Sorry, but you were denied access to the meeting', 'you were denied access to the meeting', 'Your request to join was declined']],
    ['meeting_ended', ['The meeting has ended', 'This meeting has ended', 'The meeting has been ended', 'Call ended by the organizer']],
    ['meeting_not_found', ['Looks like the meeting URL is incorrect', "We couldn't find this meeting", "We couldn't find the meeting", 'This meeting link is invalid', 'Meeting not found']],
    ['bot_detected', ["Verify you're a real person"]],
  ];
  let end = null;
  if (!callUi) {
    for (const [subCode, texts] of ENDS) {
      const hit = texts.find(has);
      if (hit) { end = { subCode, reason: hit }; break; }
    }
  }

  let signIn = null;
  if (!callUi) {
    const SIGN_IN = ['To join, sign in or use Teams on the web', 'We need to verify your info before you can join', 'Sign in to join this meeting'];
    signIn = SIGN_IN.find(has) || null;
    if (!signIn && $('input[name="loginfmt"]')) signIn = 'the Microsoft sign-in form (loginfmt)';
  }

  const launcher = shown('button[data-tid="joinOnWeb"], button[aria-label="Join meeting from this browser"]') ||
    buttonNamed(/^(Continue on this browser|Join on this browser|Join meeting from this browser|Join on the web instead|Continue in this browser)$/i);
  const avModal = buttonNamed(/^Continue without audio or video$/i);
  const prejoin = shown('input[data-tid="prejoin-display-name-input"], button[data-tid="prejoin-join-button"]');
  const inCall = callUi && !lobby && !end;

  // Head count: the People button's badge, its aria-label, the pane's "In this meeting (N)", or
  // any roster/people text with a number next to "people"/"participants".
  let count = null;
  const int = (s) => { const n = Number(s); return Number.isInteger(n) && n >= 0 && n < 1000 ? n : null; };
  const badge = $$('[data-tid="roster-button-tile"]').find(visible);
  if (badge) count = int(norm(badge.textContent));
  const COUNT_RE = /\b(?:people|participants?)\D{0,30}?(\d{1,3})\b/i;
  if (count === null && rosterButton) {
    const m = COUNT_RE.exec(norm(rosterButton.getAttribute('aria-label')));
    if (m) count = int(m[1]);
  }
  if (count === null) {
    for (const el of $$('[data-tid*="roster" i], [aria-label*="people" i], [aria-label*="participants" i]')) {
      if (!visible(el)) continue;
      const t = norm(el.innerText);
      const m = /in this meeting\s*\((\d{1,3})\)/i.exec(t) || COUNT_RE.exec(t) || COUNT_RE.exec(norm(el.getAttribute('aria-label')));
      if (m) { count = int(m[1]); if (count !== null) break; }
    }
  }

  const SUFFIX = /\s*\((?:Guest|Unverified|External|You|Organizer|Presenter)\)\s*$/i;
  const cleanName = (s) => { let n = norm(s); let prev; do { prev = n; n = n.replace(SUFFIX, ''); } while (n !== prev); return n; };

  let roster = null;
  const items = $$('li[data-tid^="participantsInCall-"], [data-cid="roster-participant"]').filter(visible);
  const peoplePane = shown('[data-tid="people-pane"]');
  if (inCall && (peoplePane || items.length)) {
    roster = [];
    const seen = new Set();
    for (const li of items) {
      const tid = li.getAttribute('data-tid') || '';
      const nameEl = li.querySelector('[data-tid="roster-item-display-name"]');
      const label = norm(li.getAttribute('aria-label'));
      const raw = nameEl ? (nameEl.getAttribute('title') || nameEl.textContent) : label.split(',')[0];
      const name = cleanName(raw);
      if (!name) continue;
      const platformId = tid.startsWith('participantsInCall-') ? tid.slice('participantsInCall-'.length) : 'name:' + name.toLowerCase();
      if (seen.has(platformId)) continue;
      seen.add(platformId);
      const roleText = norm((li.querySelector('[data-tid="roster-item-role"]') || {}).textContent || '');
      const isSelf = /(^|,\s*)You(,|$)/.test(roleText) || /,\s*(?:[^,]*,\s*)?You$/.test(label) || /\(You\)/.test(norm(raw));
      roster.push({ platformId, name, isSelf });
    }
  }

  const tiles = [];
  const speaking = [];
  if (inCall) {
    for (const stream of $$('[data-stream-type][data-tid]')) {
      if (stream.getAttribute('data-stream-type') === 'ScreenSharing') continue;
      const name = cleanName(stream.getAttribute('data-tid'));
      if (!name || tiles.includes(name)) continue;
      tiles.push(name);
      const outline = stream.querySelector('[data-tid="voice-level-stream-outline"]');
      if (outline && outline.classList.contains('vdi-frame-occlusion')) speaking.push(name);
    }
  }

  const pane = peoplePane ? 'roster' : shown('[data-tid="ckeditor"], [data-tid="chat-pane"]') ? 'chat' : null;
  const leftScreen = !callUi && (has('You left the meeting') || has('You have left the meeting'));
  return { end, signIn, leftScreen, launcher, avModal, prejoin, lobby, inCall, roster, tiles, count, speaking, pane };
})()`;
