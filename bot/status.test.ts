import { describe, expect, it } from 'vitest';
import { canTransition, END_KIND, endStatusFor, isTerminal, STATUS_CODES, SUB_CODES, TRANSITIONS } from './status.js';

describe('bot status machine', () => {
  it.each([
    ['scheduled', 'joining_call', true],
    ['scheduled', 'in_call_recording', false],
    ['joining_call', 'in_waiting_room', true],
    ['joining_call', 'in_call_not_recording', true],
    ['in_waiting_room', 'in_call_not_recording', true],
    // A rejoin after a browser crash: the capture kept running.
    ['in_waiting_room', 'in_call_recording', true],
    ['joining_call', 'in_call_recording', true],
    ['in_call_not_recording', 'in_call_recording', true],
    ['in_call_recording', 'call_ended', true],
    ['in_call_recording', 'joining_call', true],
    ['call_ended', 'done', true],
    ['call_ended', 'in_call_recording', false],
    ['done', 'fatal', false],
    ['fatal', 'joining_call', false],
    ['scheduled', 'fatal', true],
    ['in_waiting_room', 'fatal', true],
  ] as const)('%s → %s allowed: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });

  it('has no way out of done and fatal', () => {
    for (const s of STATUS_CODES) if (isTerminal(s)) expect(TRANSITIONS[s]).toHaveLength(0);
  });

  it('gives every sub_code an end kind', () => {
    expect(Object.keys(END_KIND).sort()).toEqual([...SUB_CODES].sort());
  });

  it.each([
    ['left_by_request', 'call_ended'],
    ['everyone_left', 'call_ended'],
    ['meeting_ended', 'call_ended'],
    ['removed_from_call', 'call_ended'],
    ['denied_entry', 'fatal'],
    ['waiting_room_timeout', 'fatal'],
    ['bot_detected', 'fatal'],
  ] as const)('%s ends in %s', (sub, status) => {
    expect(endStatusFor(sub)).toBe(status);
  });
});
