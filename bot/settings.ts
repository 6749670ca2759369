/** Per-bot settings as clients send them and as the runner reads them back from the bot row. */
import { z } from 'zod';

export const AutomaticLeaveSchema = z
  .object({
    /** Leave (fatal waiting_room_timeout) after this long in a lobby without being admitted. */
    waiting_room_timeout_s: z.number().int().min(10).max(3600).default(600),
    /** Leave (call_ended everyone_left) after this long alone once someone else has been seen. */
    everyone_left_timeout_s: z.number().int().min(0).max(3600).default(30),
    /** Grace period when nobody else ever shows up in the call (call_ended everyone_left). */
    noone_joined_timeout_s: z.number().int().min(10).max(7200).default(600),
    /** Leave (call_ended silence_timeout) after this long without audio above the silence floor. */
    silence_timeout_s: z.number().int().min(30).max(86_400).default(900),
    /** Leave (call_ended max_duration) after this long in the call. */
    max_duration_s: z.number().int().min(60).max(43_200).default(14_400),
  })
  .strict();
export type AutomaticLeave = z.infer<typeof AutomaticLeaveSchema>;

export const TranscriptionSettingsSchema = z
  .object({
    /** Speech-to-text engine: `local` is offline (pocketsphinx) and needs no keys. */
    provider: z.enum(['local']).default('local'),
    /** BCP-47 language of the meeting. */
    language: z
      .string()
      .regex(/^[a-z]{2,3}(-[A-Za-z]{2,4})?$/, 'expected a language tag such as en or en-US')
      .default('en'),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.provider === 'local' && !/^en(-|$)/.test(t.language)) {
      ctx.addIssue({ code: 'custom', path: ['language'], message: 'the local transcriber understands English (en) only' });
    }
  });
export type TranscriptionSettings = z.infer<typeof TranscriptionSettingsSchema>;

/** The chat message a bot posts once admitted, so everyone knows the call is recorded. On by default. */
export const RecordingNoticeSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Null: "<bot name> is recording and transcribing this meeting." */
    message: z.string().trim().min(1).max(500).nullable().default(null),
  })
  .strict();
export type RecordingNotice = z.infer<typeof RecordingNoticeSchema>;

export function recordingNoticeText(notice: RecordingNotice, botName: string): string | null {
  if (!notice.enabled) return null;
  return notice.message ?? `${botName} is recording and transcribing this meeting.`;
}

/** Seconds a bot.join job may stay active: every limit the bot enforces, plus time to finalize. */
export function jobExpirySeconds(a: AutomaticLeave, joinTimeoutS: number): number {
  return joinTimeoutS + a.waiting_room_timeout_s + a.max_duration_s + 30 * 60;
}
