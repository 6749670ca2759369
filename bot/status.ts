/**
 * The bot status state machine (Recall-compatible names) and the closed set of sub_codes.
 * Every transition a bot makes is checked against TRANSITIONS; ends carry a sub_code whose
 * kind (an ordinary end of a call, or a failure) is fixed by END_KIND.
 */
export const STATUS_CODES = [
  'scheduled',
  'joining_call',
  'in_waiting_room',
  'in_call_not_recording',
  'in_call_recording',
  'call_ended',
  'done',
  'fatal',
] as const;
export type StatusCode = (typeof STATUS_CODES)[number];

export const SUB_CODES = [
  'left_by_request',
  'meeting_ended',
  'everyone_left',
  'silence_timeout',
  'max_duration',
  'waiting_room_timeout',
  'denied_entry',
  'removed_from_call',
  'meeting_not_found',
  'sign_in_required',
  'bot_detected',
  'join_timeout',
  'browser_crashed',
  'capture_failed',
  'transcription_failed',
  'invalid_meeting_url',
] as const;
export type SubCode = (typeof SUB_CODES)[number];

/** Whether a sub_code ends the call normally (call_ended → done) or is a failure (fatal). */
export const END_KIND: Record<SubCode, 'call_ended' | 'fatal'> = {
  left_by_request: 'call_ended',
  meeting_ended: 'call_ended',
  everyone_left: 'call_ended',
  silence_timeout: 'call_ended',
  max_duration: 'call_ended',
  removed_from_call: 'call_ended',
  waiting_room_timeout: 'fatal',
  denied_entry: 'fatal',
  meeting_not_found: 'fatal',
  sign_in_required: 'fatal',
  bot_detected: 'fatal',
  join_timeout: 'fatal',
  browser_crashed: 'fatal',
  capture_failed: 'fatal',
  transcription_failed: 'fatal',
  invalid_meeting_url: 'fatal',
};

const LIVE: StatusCode[] = ['joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording'];

/**
 * Allowed moves. A live bot may go back to joining_call when it rejoins (after a browser
 * crash or a worker restart), and in_call_recording may drop to in_call_not_recording while
 * capture restarts. A bot that rejoins after a browser crash while its capture keeps running
 * goes from joining_call or the lobby straight to in_call_recording: it never stopped recording.
 */
export const TRANSITIONS: Record<StatusCode, readonly StatusCode[]> = {
  scheduled: ['joining_call', 'fatal'],
  joining_call: ['joining_call', 'in_waiting_room', 'in_call_not_recording', 'in_call_recording', 'call_ended', 'fatal'],
  in_waiting_room: ['joining_call', 'in_call_not_recording', 'in_call_recording', 'call_ended', 'fatal'],
  in_call_not_recording: ['joining_call', 'in_call_recording', 'call_ended', 'fatal'],
  in_call_recording: ['joining_call', 'in_call_not_recording', 'call_ended', 'fatal'],
  call_ended: ['done', 'fatal'],
  done: [],
  fatal: [],
};

export const canTransition = (from: StatusCode, to: StatusCode) => TRANSITIONS[from].includes(to);
export const isTerminal = (s: StatusCode) => s === 'done' || s === 'fatal';
export const isLive = (s: StatusCode) => LIVE.includes(s);
export const isStatusCode = (s: string): s is StatusCode => (STATUS_CODES as readonly string[]).includes(s);

/** The status a bot ends in for a sub_code. */
export const endStatusFor = (subCode: SubCode): 'call_ended' | 'fatal' => END_KIND[subCode];
