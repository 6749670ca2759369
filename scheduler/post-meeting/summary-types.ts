/**
 * The shape of a meeting summary, shared by the summarisers, the job that stores it and the
 * API that serves and edits it: `{summary, decisions[], action_items[{text, owner, due}]}`.
 */
import { z } from 'zod';

/** A calendar date, `YYYY-MM-DD`, that exists. */
export const IsoDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'not a calendar date');

export const ActionItemSchema = z.object({
  text: z.string().trim().min(1).max(2000),
  /** Who takes it (a speaker's or participant's name, or a team); null when nobody was named. */
  owner: z.string().trim().min(1).max(200).nullable(),
  /** When it is due, resolved against the meeting date; null when no date was said. */
  due: IsoDateSchema.nullable(),
});
export type ActionItem = z.infer<typeof ActionItemSchema>;

export const SummaryContentSchema = z.object({
  /** A few bullets, one per line, each starting with "- ". */
  summary: z.string().max(20_000),
  decisions: z.array(z.string().trim().min(1).max(2000)).max(200),
  action_items: z.array(ActionItemSchema).max(200),
});
export type SummaryContent = z.infer<typeof SummaryContentSchema>;

/** One line of what was said, as the summarisers read it. */
export interface SpokenLine {
  speaker: string | null;
  startMs: number;
  endMs: number;
  text: string;
}

export interface AttachedDocument {
  filename: string;
  text: string;
}

/** Everything a summariser may use. */
export interface SummaryInput {
  lines: SpokenLine[];
  /** Everyone known to have been there (speakers are added from the lines). */
  participants: string[];
  documents: AttachedDocument[];
  /** When the meeting happened: relative dates ("by Friday") resolve against it. */
  meetingDate: Date;
  /** IANA zone the meeting's dates are read in. */
  timeZone: string;
}

/** Bullets → the `summary` string. */
export const bulletsToSummary = (bullets: string[]) => bullets.map((b) => `- ${b}`).join('\n');
