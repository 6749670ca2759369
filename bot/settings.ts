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

/** Speech-to-text engines: `local` is offline (pocketsphinx, no keys); the others are cloud services with a key. */
export const TRANSCRIPTION_PROVIDERS = ['local', 'assemblyai', 'openai'] as const;
export type TranscriptionProvider = (typeof TRANSCRIPTION_PROVIDERS)[number];
export type CloudProvider = Exclude<TranscriptionProvider, 'local'>;
export const CLOUD_PROVIDERS = ['assemblyai', 'openai'] as const satisfies readonly CloudProvider[];

/** Languages AssemblyAI's streaming models understand (English, or the multilingual model's five others). */
export const ASSEMBLYAI_STREAMING_LANGUAGES = ['en', 'es', 'fr', 'de', 'it', 'pt'] as const;

const language = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Za-z]{2,4})?$/, 'expected a language tag such as en or en-US')
  .default('en');

/** Problems of a provider/language pair (the language must be one the engine understands). */
export function transcriptionLanguageProblem(provider: TranscriptionProvider, lang: string): string | null {
  const primary = lang.split('-')[0]!;
  if (provider === 'local' && primary !== 'en') return 'the local transcriber understands English (en) only';
  if (provider === 'assemblyai' && !(ASSEMBLYAI_STREAMING_LANGUAGES as readonly string[]).includes(primary)) {
    return `AssemblyAI streaming understands ${ASSEMBLYAI_STREAMING_LANGUAGES.join(', ')}`;
  }
  return null;
}

/** The settings as stored on the bot row (provider resolved: the request's, or the workspace default). */
export const TranscriptionSettingsSchema = z
  .object({
    /** Speech-to-text engine: `local` is offline (pocketsphinx) and needs no keys. */
    provider: z.enum(TRANSCRIPTION_PROVIDERS).default('local'),
    /** BCP-47 language of the meeting. */
    language,
  })
  .strict()
  .superRefine((t, ctx) => {
    const problem = transcriptionLanguageProblem(t.provider, t.language);
    if (problem) ctx.addIssue({ code: 'custom', path: ['language'], message: problem });
  });

/** The settings as clients send them: without `provider`, the workspace default applies (checked once it is known). */
export const TranscriptionRequestSchema = z
  .object({
    /** Speech-to-text engine; omitted: the workspace's `default_transcription_provider` (`local` unless changed). */
    provider: z.enum(TRANSCRIPTION_PROVIDERS).optional(),
    /** BCP-47 language of the meeting. */
    language,
  })
  .strict()
  .superRefine((t, ctx) => {
    const problem = t.provider ? transcriptionLanguageProblem(t.provider, t.language) : null;
    if (problem) ctx.addIssue({ code: 'custom', path: ['language'], message: problem });
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
