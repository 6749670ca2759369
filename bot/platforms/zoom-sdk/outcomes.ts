/**
 * What the Meeting SDK's numbers mean for a bot: join error codes → sub_codes, and the
 * reason codes of the bot's own onUserLeave → how its stay ended. Codes and texts: Zoom's
 * "Meeting SDK error codes" page for web and the SDK 6.2.0 bundle (its error table and its
 * en-US strings); reason codes: the SDK's `index.d.ts` (onUserLeave).
 */
import type { SubCode } from '../../status.js';

export interface CodeMeaning {
  subCode: SubCode;
  /** What the code means, for the bot's status message. */
  meaning: string;
  /** Whether another attempt could succeed. */
  retry: boolean;
}

const notFound = (meaning: string): CodeMeaning => ({ subCode: 'meeting_not_found', meaning, retry: false });
const signIn = (meaning: string): CodeMeaning => ({ subCode: 'sign_in_required', meaning, retry: false });
const denied = (meaning: string): CodeMeaning => ({ subCode: 'denied_entry', meaning, retry: false });
const transient = (meaning: string): CodeMeaning => ({ subCode: 'join_timeout', meaning, retry: true });

/** ZoomMtg.join / init error codes (Client View). */
export const JOIN_ERRORS: Readonly<Record<number, CodeMeaning>> = {
  1: transient('the join failed (general error)'),
  2: transient('the meeting was not initialised'),
  403: transient('the Zoom service is temporarily offline'),
  3000: denied('another meeting is already running in this page'),
  3001: notFound('the meeting does not exist'),
  3003: denied('only the meeting host can do this'),
  3004: notFound('wrong meeting passcode'),
  3005: signIn('an email address is required to join this webinar'),
  // 3008 "meeting has not started" is retried in the page (the bot waits for the host); it ends here only after that.
  3008: notFound('the meeting has not started'),
  3009: { subCode: 'removed_from_call', meaning: 'the bot was removed from this meeting and may not rejoin', retry: false },
  3034: signIn('this webinar requires signing in'),
  3082: signIn('this meeting requires signing in with a real name'),
  3099: signIn('this meeting requires registration'),
  3100: signIn('this meeting requires signing in'),
  3265: signIn('the ZAK token was refused'),
  3603: denied('this meeting cannot be joined from a browser'),
  3608: denied('this meeting cannot be joined from a browser (telephony audio)'),
  3610: notFound('the meeting does not exist (or the registrant token expired)'),
  3611: denied('this meeting can only be joined with the Zoom desktop or mobile app'),
  3620: denied('the bot\u2019s email address is blocked by an administrator'),
  3621: transient('no response from Zoom\u2019s web server'),
  3622: transient('could not connect to Zoom\u2019s web server'),
  3623: signIn('the ZAK token was refused'),
  3625: notFound('the meeting host is inactive'),
  3633: transient('Zoom\u2019s rate limit for this call was reached'),
  3634: { subCode: 'bot_detected', meaning: 'Zoom limits joins from here and asks for a reCAPTCHA', retry: true },
  3635: transient('the SDK\u2019s WebAssembly files did not download'),
  3636: signIn('the on-behalf-of (OBF) token was refused'),
  3702: notFound('the meeting host does not exist'),
  3703: notFound('invalid meeting id'),
  3704: signIn('the Meeting SDK key is not valid (check ZOOM_SDK_KEY)'),
  3705: signIn('the Meeting SDK signature has expired (check the bot host\u2019s clock)'),
  3706: notFound('the meeting number is wrong'),
  3707: notFound('the meeting number was not found'),
  3708: signIn('the Meeting SDK signature has the wrong role'),
  3709: notFound('the meeting host was not found'),
  3710: signIn('the Meeting SDK key is deactivated'),
  3712: signIn('the Meeting SDK signature is invalid (check ZOOM_SDK_KEY and ZOOM_SDK_SECRET)'),
  3713: signIn('the Meeting SDK app has no permission to join'),
  4003: signIn('Zoom refused the join parameters (often a missing ZAK for this flow)'),
  4004: { subCode: 'meeting_ended', meaning: 'the meeting has ended', retry: false },
  4005: denied('the meeting is full'),
  4006: denied('the meeting is locked'),
  4007: denied('an information barrier keeps the bot out'),
  4008: denied('a participant with this identity is already in the meeting'),
  4011: signIn('meetings of other Zoom accounts need an authorised (published) Meeting SDK app'),
  4012: signIn('the meeting does not allow anonymous SDK joins; an OBF or ZAK token is needed'),
  4013: signIn('the on-behalf-of (OBF) token is invalid'),
  4017: signIn('the user the OBF token belongs to is not in the meeting'),
  10000: denied('this Meeting SDK version is no longer supported; upgrade @zoom/meetingsdk'),
};

/** The meaning of a join/init error code; unknown codes are a refusal. */
export function joinErrorMeaning(code: number, message: string): CodeMeaning {
  const known = JOIN_ERRORS[code];
  if (known) return known;
  return { subCode: 'denied_entry', meaning: `Zoom refused the join${message ? `: ${message}` : ''}`, retry: false };
}

/** The bot's own onUserLeave reasonCode (index.d.ts): how its stay ended, when the code says. */
export function leaveReasonMeaning(reasonCode: number | null | undefined): { subCode: SubCode; meaning: string } | undefined {
  switch (reasonCode) {
    case 1:
      return { subCode: 'meeting_ended', meaning: 'the host ended the meeting' };
    case 6:
      return { subCode: 'removed_from_call', meaning: 'the host removed the bot from the meeting' };
    case 7:
      return { subCode: 'denied_entry', meaning: 'the host removed the bot from the waiting room' };
    case 8:
      return { subCode: 'denied_entry', meaning: 'the meeting\u2019s disclaimer was declined' };
    default:
      // 0 other, 2–4 the bot left (the runner knows why), 5 moved to another device.
      return undefined;
  }
}
