/** The Meeting SDK's join error codes and the bot's own leave reason codes, as sub_codes. */
import { describe, expect, it } from 'vitest';
import { endStatusFor } from '../../status.js';
import { joinErrorMeaning, leaveReasonMeaning } from './outcomes.js';

describe('joinErrorMeaning', () => {
  it.each([
    [3001, 'meeting_not_found', 'fatal'],
    [3004, 'meeting_not_found', 'fatal'],
    [3610, 'meeting_not_found', 'fatal'],
    [3707, 'meeting_not_found', 'fatal'],
    [3009, 'removed_from_call', 'call_ended'],
    [4004, 'meeting_ended', 'call_ended'],
    [3712, 'sign_in_required', 'fatal'],
    [3100, 'sign_in_required', 'fatal'],
    [4012, 'sign_in_required', 'fatal'],
    [4013, 'sign_in_required', 'fatal'],
    [4006, 'denied_entry', 'fatal'],
    [3634, 'bot_detected', 'fatal'],
    [1, 'join_timeout', 'fatal'],
  ] as const)('%i → %s (%s)', (code, subCode, status) => {
    const m = joinErrorMeaning(code, '');
    expect(m.subCode).toBe(subCode);
    expect(endStatusFor(m.subCode)).toBe(status);
  });

  it('retries only what another attempt could fix', () => {
    expect(joinErrorMeaning(1, '').retry).toBe(true);
    expect(joinErrorMeaning(3635, '').retry).toBe(true);
    expect(joinErrorMeaning(3004, '').retry).toBe(false);
    expect(joinErrorMeaning(3712, '').retry).toBe(false);
  });

  it('treats an unknown code as a refusal that quotes Zoom', () => {
    expect(joinErrorMeaning(98765, 'Something new')).toEqual({ subCode: 'denied_entry', meaning: 'Zoom refused the join: Something new', retry: false });
  });
});

describe('leaveReasonMeaning', () => {
  it.each([
    [1, 'meeting_ended'],
    [6, 'removed_from_call'],
    [7, 'denied_entry'],
    [8, 'denied_entry'],
  ] as const)('reasonCode %i → %s', (code, subCode) => {
    expect(leaveReasonMeaning(code)?.subCode).toBe(subCode);
  });

  it.each([0, 2, 3, 4, 5, null, undefined])('leaves reasonCode %s to the runner', (code) => {
    expect(leaveReasonMeaning(code)).toBeUndefined();
  });
});
