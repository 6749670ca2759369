/** Which link a calendar event is, in the research's source order, on real-world event shapes. */
import { describe, expect, it } from 'vitest';
import { meetingFromGoogleEvent, meetingFromGraphEvent, type GoogleEventLinks, type GraphEventLinks } from './meeting-links.js';

const THREAD = '19:meeting_NTg0NmQ3NTctZDVkZC00YzRhLThmNmEtOGQ3NTEwNTNhYzhm@thread.v2';
const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OID = 'a1b2c3d4-1111-2222-3333-444455556666';
const TEAMS_JOIN = `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(THREAD)}/0?context=${encodeURIComponent(JSON.stringify({ Tid: TID, Oid: OID }))}`;
const safelinks = (url: string) => `https://nam06.safelinks.protection.outlook.com/?url=${encodeURIComponent(url)}&data=05%7C02%7Cada%40contoso.com%7C3f1c&sdata=q0%2BKjvH2pQ%3D&reserved=0`;

describe('Google events', () => {
  it.each<[string, GoogleEventLinks, string | null]>([
    [
      'Meet conference data first',
      {
        conferenceData: { entryPoints: [{ entryPointType: 'phone', uri: 'tel:+1-555-0100' }, { entryPointType: 'video', uri: 'https://meet.google.com/abc-defg-hij' }] },
        hangoutLink: 'https://meet.google.com/zzz-zzzz-zzz',
        location: 'https://zoom.us/j/85012345678',
      },
      'https://meet.google.com/abc-defg-hij',
    ],
    ['Zoom add-on video entry point', { conferenceData: { entryPoints: [{ entryPointType: 'video', uri: 'https://us02web.zoom.us/j/85012345678?pwd=aBcD1234.1' }] } }, 'https://us02web.zoom.us/j/85012345678?pwd=aBcD1234.1'],
    ['hangoutLink only (legacy)', { hangoutLink: 'https://meet.google.com/xyz-abcd-uvw' }, 'https://meet.google.com/xyz-abcd-uvw'],
    ['link in the location with prose', { location: 'Room 4 / https://zoom.us/j/98765432101?pwd=Xy12', description: 'https://meet.google.com/abc-defg-hij' }, 'https://zoom.us/j/98765432101?pwd=Xy12'],
    ['a location that is not a link falls through to the description', { location: 'Canteen', description: 'Join: <a href="https://meet.google.com/abc-defg-hij">meet</a>' }, 'https://meet.google.com/abc-defg-hij'],
    [
      'Teams in an HTML description, SafeLinks-wrapped, with entities',
      { description: `<p>Join Microsoft Teams Meeting: <a href="${safelinks(TEAMS_JOIN).replace(/&/g, '&amp;')}">Click here</a></p>` },
      TEAMS_JOIN,
    ],
    ['Google redirect in the description', { description: `https://www.google.com/url?q=${encodeURIComponent('https://meet.google.com/abc-defg-hij')}&sa=D` }, 'https://meet.google.com/abc-defg-hij'],
    ['a link in the title as a last resort', { summary: 'Call https://meet.google.com/abc-defg-hij' }, 'https://meet.google.com/abc-defg-hij'],
    ['an unsupported video link is skipped for the next source', { conferenceData: { entryPoints: [{ entryPointType: 'video', uri: 'https://example.webex.com/j.php?MTID=m1' }] }, description: 'https://zoom.us/j/85012345678' }, 'https://zoom.us/j/85012345678'],
    ['nothing', { summary: 'Lunch', location: 'Canteen', description: 'Bring snacks. https://example.com/menu' }, null],
  ])('%s', (_why, event, url) => {
    expect(meetingFromGoogleEvent(event)?.url ?? null).toBe(url);
  });
});

describe('Microsoft Graph events', () => {
  it.each<[string, GraphEventLinks, string | null]>([
    ['onlineMeeting.joinUrl first', { onlineMeeting: { joinUrl: TEAMS_JOIN }, body: { content: 'https://zoom.us/j/85012345678' } }, TEAMS_JOIN],
    ['legacy onlineMeetingUrl', { onlineMeeting: null, onlineMeetingUrl: TEAMS_JOIN }, TEAMS_JOIN],
    ['a Zoom link in the location', { location: { displayName: 'https://zoom.us/j/85012345678?pwd=Ab12' } }, 'https://zoom.us/j/85012345678?pwd=Ab12'],
    ['SafeLinks-wrapped Teams link in the HTML body', { body: { content: `<html><body><a href="${safelinks(TEAMS_JOIN).replace(/&/g, '&amp;')}">Join the meeting now</a></body></html>` } }, TEAMS_JOIN],
    ['Meet link in the body', { body: { content: '<div>Google Meet: https://meet.google.com/abc-defg-hij</div>' } }, 'https://meet.google.com/abc-defg-hij'],
    ['nothing', { subject: 'Focus time', body: { content: '<html><body>Do not book</body></html>' } }, null],
  ])('%s', (_why, event, url) => {
    expect(meetingFromGraphEvent(event)?.url ?? null).toBe(url);
  });
});
