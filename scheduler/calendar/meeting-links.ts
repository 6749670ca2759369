/**
 * Which meeting a calendar event is: the first source that yields a supported link, in the
 * order of calendar-marketplace research §3 — Google: the conference's video entry point,
 * `hangoutLink`, `location`, `description`, the title; Microsoft: `onlineMeeting.joinUrl`,
 * `onlineMeetingUrl`, the location, the body, the subject. Links are parsed and normalised by
 * lib/meeting-url.ts (SafeLinks and Google redirects unwrapped there).
 */
import { findMeetingUrls, parseMeetingUrl, type MeetingRef } from '../../lib/meeting-url.js';

/** The fields of a Google Calendar v3 event this reads. */
export interface GoogleEventLinks {
  conferenceData?: { entryPoints?: { entryPointType?: string | null; uri?: string | null }[] | null } | null;
  hangoutLink?: string | null;
  location?: string | null;
  description?: string | null;
  summary?: string | null;
}

/** The fields of a Microsoft Graph event this reads. */
export interface GraphEventLinks {
  onlineMeeting?: { joinUrl?: string | null } | null;
  onlineMeetingUrl?: string | null;
  location?: { displayName?: string | null; locationUri?: string | null } | null;
  locations?: { displayName?: string | null; locationUri?: string | null }[] | null;
  body?: { content?: string | null } | null;
  subject?: string | null;
}

type Source = { kind: 'url' | 'text'; value: string | null | undefined };

function firstMeeting(sources: Source[]): MeetingRef | null {
  for (const { kind, value } of sources) {
    if (typeof value !== 'string' || !value.trim()) continue;
    if (kind === 'url') {
      const parsed = parseMeetingUrl(value);
      if (parsed.ok) return parsed.meeting;
    }
    // A "url" field that is not a bare link (Outlook puts prose in locations) is scanned as text.
    const [found] = findMeetingUrls(value);
    if (found) return found;
  }
  return null;
}

export function meetingFromGoogleEvent(e: GoogleEventLinks): MeetingRef | null {
  const video = (e.conferenceData?.entryPoints ?? []).filter((p) => p.entryPointType === 'video');
  return firstMeeting([
    ...video.map((p): Source => ({ kind: 'url', value: p.uri })),
    { kind: 'url', value: e.hangoutLink },
    { kind: 'text', value: e.location },
    { kind: 'text', value: e.description },
    { kind: 'text', value: e.summary },
  ]);
}

export function meetingFromGraphEvent(e: GraphEventLinks): MeetingRef | null {
  return firstMeeting([
    { kind: 'url', value: e.onlineMeeting?.joinUrl },
    { kind: 'url', value: e.onlineMeetingUrl },
    { kind: 'text', value: e.location?.displayName },
    { kind: 'url', value: e.location?.locationUri },
    ...(e.locations ?? []).flatMap((l): Source[] => [
      { kind: 'text', value: l.displayName },
      { kind: 'url', value: l.locationUri },
    ]),
    { kind: 'text', value: e.body?.content },
    { kind: 'text', value: e.subject },
  ]);
}
