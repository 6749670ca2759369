import { describe, expect, it } from 'vitest';
import { findMeetingUrls, meetingKey, parseMeetingUrl, type MeetingRef } from './meeting-url.js';

// Realistic Teams identifiers (the tenant is Microsoft's public one).
const THREAD = '19:meeting_NTg0NmQ3NTctZDVkZC00YzRhLThmNmEtOGQ3NTEwNTNhYzhm@thread.v2';
const THREAD_ENC = '19%3ameeting_NTg0NmQ3NTctZDVkZC00YzRhLThmNmEtOGQ3NTEwNTNhYzhm%40thread.v2';
const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OID = 'a1b2c3d4-1111-2222-3333-444455556666';
const CONTEXT_ENC = '%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%22a1b2c3d4-1111-2222-3333-444455556666%22%7d';
const TEAMS_JOIN = `https://teams.microsoft.com/l/meetup-join/${THREAD_ENC}/0?context=${CONTEXT_ENC}`;
/** What every spelling of the meeting above normalises to. */
const TEAMS_CANONICAL = `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(THREAD)}/0?context=${encodeURIComponent(JSON.stringify({ Tid: TID, Oid: OID }))}`;
const TEAMS_REF: MeetingRef = { platform: 'microsoft_teams', url: TEAMS_CANONICAL, meetingId: THREAD, tenantId: TID, organizerId: OID };

const CHANNEL_THREAD = '19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2';

const safelinks = (url: string) =>
  `https://nam06.safelinks.protection.outlook.com/?url=${encodeURIComponent(url)}&data=05%7C02%7Cada%40contoso.com%7C3f1c%7C72f988bf86f141af91ab2d7cd011db47%7C1%7C0%7C638500000000000000&sdata=q0%2BKjvH2pQ%3D&reserved=0`;
const googleRedirect = (url: string) => `https://www.google.com/url?q=${encodeURIComponent(url)}&sa=D&source=calendar&ust=1716900000000000&usg=AOvVaw3xYz`;
const coords = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64');

const meet = (code: string): MeetingRef => ({ platform: 'google_meet', url: `https://meet.google.com/${code}`, meetingId: code });
const zoom = (host: string, id: string, passcode?: string, zoomToken?: string): MeetingRef => {
  const q = new URLSearchParams();
  if (passcode) q.set('pwd', passcode);
  if (zoomToken) q.set('tk', zoomToken);
  const qs = q.toString();
  return {
    platform: 'zoom',
    url: `https://${host}/j/${id}${qs ? `?${qs}` : ''}`,
    meetingId: id,
    ...(passcode ? { passcode } : {}),
    ...(zoomToken ? { zoomToken } : {}),
  };
};
const teamsMeet = (host: string, id: string, passcode?: string): MeetingRef => ({
  platform: 'microsoft_teams',
  url: `https://${host}/meet/${id}${passcode ? `?p=${passcode}` : ''}`,
  meetingId: id,
  ...(passcode ? { passcode } : {}),
});

function parsed(input: string): MeetingRef {
  const r = parseMeetingUrl(input);
  if (!r.ok) throw new Error(`expected ${input} to parse: ${r.reason}`);
  return r.meeting;
}

describe('parseMeetingUrl accepts', () => {
  it.each<[string, string, MeetingRef]>([
    // Google Meet
    ['Meet code', 'https://meet.google.com/abc-defg-hij', meet('abc-defg-hij')],
    ['Meet without scheme', 'meet.google.com/abc-defg-hij', meet('abc-defg-hij')],
    ['Meet upper case, authuser dropped', 'HTTPS://MEET.GOOGLE.COM/ABC-DEFG-HIJ?authuser=1', meet('abc-defg-hij')],
    ['Meet code without dashes', 'https://meet.google.com/abcdefghij', meet('abc-defg-hij')],
    ['Meet query and trailing slash dropped', 'http://meet.google.com/xyz-abcd-uvw/?hs=122&pli=1&authuser=0', meet('xyz-abcd-uvw')],
    ['Meet with trailing punctuation and whitespace', '  https://meet.google.com/abc-defg-hij).\n', meet('abc-defg-hij')],
    ['Meet wrapped in angle brackets', '<https://meet.google.com/abc-defg-hij>', meet('abc-defg-hij')],
    ['Meet workspace nickname', 'https://meet.google.com/Team-Standup', meet('team-standup')],
    ['Meet via google.com/url?q=', googleRedirect('https://meet.google.com/abc-defg-hij?authuser=0'), meet('abc-defg-hij')],
    ['Meet via SafeLinks around google.com/url', safelinks(googleRedirect('https://meet.google.com/abc-defg-hij')), meet('abc-defg-hij')],

    // Microsoft Teams
    ['Teams meetup-join', TEAMS_JOIN, TEAMS_REF],
    ['Teams meetup-join with raw JSON context', `https://teams.microsoft.com/l/meetup-join/${THREAD_ENC}/0?context={"Tid":"${TID}","Oid":"${OID}"}`, TEAMS_REF],
    ['Teams meetup-join, upper-case ids in context', `https://teams.microsoft.com/l/meetup-join/${THREAD_ENC}/0?context={"Tid":"${TID.toUpperCase()}","Oid":"${OID}"}&anon=true`, TEAMS_REF],
    ['Teams meetup-join in SafeLinks', safelinks(TEAMS_JOIN), TEAMS_REF],
    ['Teams meetup-join in SafeLinks (new /ap/ path)', safelinks(TEAMS_JOIN).replace('.com/?', '.com/ap/t-59584e83/?'), TEAMS_REF],
    ['Teams meetup-join on teams.cloud.microsoft', TEAMS_JOIN.replace('teams.microsoft.com', 'teams.cloud.microsoft'), TEAMS_REF],
    [
      'Teams launcher',
      `https://teams.microsoft.com/dl/launcher/launcher.html?url=${encodeURIComponent(`/_#/l/meetup-join/${THREAD_ENC}/0?context=${CONTEXT_ENC}&anon=true`)}&type=meetup-join&deeplinkId=2b8c5a1e-0f3a-4c1e-9d7b-6a5e4c3b2a19&directDl=true&msLaunch=true&enableMobilePage=true&suppressPrompt=true`,
      TEAMS_REF,
    ],
    ['Teams web-client fragment form', `https://teams.microsoft.com/_#/l/meetup-join/${THREAD_ENC}/0?context=${CONTEXT_ENC}`, TEAMS_REF],
    [
      'Teams light-meetings launch',
      `https://teams.microsoft.com/light-meetings/launch?agent=web&version=24031414700&coords=${encodeURIComponent(coords({ conversationId: THREAD, tenantId: TID, messageId: '0', organizerId: OID }))}&deeplinkId=7c0e1f2a`,
      TEAMS_REF,
    ],
    [
      'Teams meetup-join keeps teams.live.com',
      `https://teams.live.com/l/meetup-join/${THREAD_ENC}/0?context=${CONTEXT_ENC}`,
      { ...TEAMS_REF, url: TEAMS_CANONICAL.replace('teams.microsoft.com', 'teams.live.com') },
    ],
    [
      'Teams meetup-join keeps the GCC High host',
      `https://gov.teams.microsoft.us/l/meetup-join/${THREAD_ENC}/0?context=${CONTEXT_ENC}`,
      { ...TEAMS_REF, url: TEAMS_CANONICAL.replace('teams.microsoft.com', 'gov.teams.microsoft.us') },
    ],
    [
      'Teams channel meeting (tacv2 thread, message id)',
      `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(CHANNEL_THREAD)}/1714480000123?context=${encodeURIComponent(`{"Tid":"${TID}","Oid":"${OID}","MessageId":"1714480000123"}`)}`,
      {
        platform: 'microsoft_teams',
        url: `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(CHANNEL_THREAD)}/1714480000123?context=${encodeURIComponent(`{"Tid":"${TID}","Oid":"${OID}","MessageId":"1714480000123"}`)}`,
        meetingId: CHANNEL_THREAD,
        tenantId: TID,
        organizerId: OID,
      },
    ],
    ['Teams app deep link (msteams:)', `msteams:/l/meetup-join/${THREAD_ENC}/0?context=${CONTEXT_ENC}&anon=true&deeplinkId=2b8c5a1e-0f3a-4c1e-9d7b-6a5e4c3b2a19`, TEAMS_REF],
    ['Teams app deep link with host (msteams://)', `msteams://teams.microsoft.com/l/meetup-join/${THREAD_ENC}/0?context=${CONTEXT_ENC}`, TEAMS_REF],
    ['Teams v2 web client, meetup-join in the fragment', `https://teams.microsoft.com/v2/?meetingjoin=true#/l/meetup-join/${THREAD_ENC}/0?context=${CONTEXT_ENC}&anon=true`, TEAMS_REF],
    [
      'Teams launcher for a /meet/ link on teams.live.com',
      `https://teams.live.com/dl/launcher/launcher.html?url=${encodeURIComponent('/_#/meet/9876543210123?p=xYz987Qw&anon=true')}&type=meet&deeplinkId=2b8c5a1e&directDl=true&msLaunch=true&enableMobilePage=true&suppressPrompt=true`,
      teamsMeet('teams.live.com', '9876543210123', 'xYz987Qw'),
    ],
    [
      'Teams light-meetings launch on teams.live.com',
      `https://teams.live.com/light-meetings/launch?anon=true&agent=web&coords=${encodeURIComponent(coords({ conversationId: THREAD, tenantId: TID, organizerId: OID, messageId: '0' }))}`,
      { ...TEAMS_REF, url: TEAMS_CANONICAL.replace('teams.microsoft.com', 'teams.live.com') },
    ],
    ['Teams /meet/ id with passcode', 'https://teams.microsoft.com/meet/2345678901234?p=AbCdEfGhIjKlMnOp', teamsMeet('teams.microsoft.com', '2345678901234', 'AbCdEfGhIjKlMnOp')],
    ['Teams free /meet/ on teams.live.com', 'teams.live.com/meet/9876543210123?p=xYz987Qw', teamsMeet('teams.live.com', '9876543210123', 'xYz987Qw')],
    ['Teams /meet/ without passcode', 'https://teams.cloud.microsoft/meet/2345678901234', teamsMeet('teams.microsoft.com', '2345678901234')],
    ['Teams v2 fragment /meet/', 'https://teams.microsoft.com/v2/?meetingjoin=true#/meet/2345678901234?p=AbCdEf12&anon=true', teamsMeet('teams.microsoft.com', '2345678901234', 'AbCdEf12')],
    ['Teams /meet/ on DoD', 'https://dod.teams.microsoft.us/meet/23456789012?p=Qw12', teamsMeet('dod.teams.microsoft.us', '23456789012', 'Qw12')],

    // Zoom
    ['Zoom regional host with pwd', 'https://us02web.zoom.us/j/81234567890?pwd=dGhpc2lzYXBhc3N3b3Jk.1', zoom('us02web.zoom.us', '81234567890', 'dGhpc2lzYXBhc3N3b3Jk.1')],
    ['Zoom plain, other params dropped', 'https://zoom.us/j/123456789?from=addon&uname=Ada#success', zoom('zoom.us', '123456789')],
    ['Zoom zoom.com → zoom.us', 'https://zoom.com/j/81234567890?pwd=abc123', zoom('zoom.us', '81234567890', 'abc123')],
    ['Zoom vanity subdomain kept', 'acme.zoom.us/j/81234567890?pwd=Xy9Zk', zoom('acme.zoom.us', '81234567890', 'Xy9Zk')],
    ['Zoom vanity on zoom.com', 'https://acme.zoom.com/j/8123456789', zoom('acme.zoom.us', '8123456789')],
    ['Zoom /w/ webinar link with registrant token', 'https://us06web.zoom.us/w/81234567890?tk=tiXN8gV7JXs0-rC5VUx8l_tk0KGOq0EcF.DQMAAAAXhgnS9xZ0&pwd=R1h2', zoom('us06web.zoom.us', '81234567890', 'R1h2', 'tiXN8gV7JXs0-rC5VUx8l_tk0KGOq0EcF.DQMAAAAXhgnS9xZ0')],
    ['Zoom web client /wc/join/', 'https://app.zoom.us/wc/join/81234567890?pwd=abc.1', zoom('zoom.us', '81234567890', 'abc.1')],
    ['Zoom React web client /wc/<id>/join', 'https://app.zoom.us/wc/81234567890/join?fromPWA=1&pwd=abc', zoom('zoom.us', '81234567890', 'abc')],
    ['Zoom start link /s/ treated as join', 'https://us02web.zoom.us/s/81234567890?zak=eyJ0eXAiOiJKV1Qi', zoom('us02web.zoom.us', '81234567890')],
    ['Zoom web-client start link treated as join', 'https://app.zoom.us/wc/81234567890/start?pwd=abc.1', zoom('zoom.us', '81234567890', 'abc.1')],
    ['Zoom launch-page redirect params dropped', 'https://acme.zoom.us/wc/join/81234567890?pwd=abc&_x_zm_rtaid=Xy12&_x_zm_rhtaid=704', zoom('acme.zoom.us', '81234567890', 'abc')],
    ['Zoom occurrence of a recurring meeting', 'https://us02web.zoom.us/j/81234567890?pwd=Q3Z0eUZXNjdMSGxydk0vb0Jzdz09&omn=81234567891', zoom('us02web.zoom.us', '81234567890', 'Q3Z0eUZXNjdMSGxydk0vb0Jzdz09')],
    ['Zoom id pasted with spaces', 'https://zoom.us/j/812 3456 7890', zoom('zoom.us', '81234567890')],
    ['Zoom pwd with junk after it', 'https://zoom.us/j/81234567890?pwd=abc123.1%22%3E', zoom('zoom.us', '81234567890', 'abc123.1')],
    ['Zoom trailing sentence punctuation', 'https://zoom.us/j/81234567890?pwd=abc123.', zoom('zoom.us', '81234567890', 'abc123')],
    ['ZoomGov', 'https://agency.zoomgov.com/j/1612345678?pwd=Gov1', zoom('agency.zoomgov.com', '1612345678', 'Gov1')],
    ['Zoom in SafeLinks', safelinks('https://us02web.zoom.us/j/81234567890?pwd=dGhpc2lz.1'), zoom('us02web.zoom.us', '81234567890', 'dGhpc2lz.1')],
    ['Zoom in SafeLinks (GCC High)', `https://gcc02.safelinks.protection.office365.us/?url=${encodeURIComponent('https://zoomgov.com/j/1612345678')}&data=x`, zoom('zoomgov.com', '1612345678')],
  ])('%s', (_name, input, expected) => {
    expect(parseMeetingUrl(input)).toEqual({ ok: true, meeting: expected });
  });
});

describe('parseMeetingUrl rejects', () => {
  it.each<[string, unknown, RegExp]>([
    ['empty input', '   ', /empty/],
    ['non-string input', 42, /string/],
    ['javascript: URL', 'javascript:alert(document.cookie)//meet.google.com/abc-defg-hij', /only http\(s\)/],
    ['mailto:', 'mailto:ada@zoom.us', /only http\(s\)/],
    ['zoommtg: deep link', 'zoommtg://zoom.us/join?confno=81234567890', /only http\(s\)/],
    ['credentials in URL', 'https://user:secret@zoom.us/j/81234567890', /credentials/],
    ['malformed URL', 'https://exa mple.com/j/81234567890', /not a valid URL/],
    ['overlong input', `https://zoom.us/j/81234567890?pwd=${'a'.repeat(4100)}`, /longer than 4096/],
    ['unknown host names supported platforms', 'https://webex.com/meet/ada', /unsupported meeting link host "webex\.com".*Google Meet.*Teams.*Zoom/],
    ['look-alike host', 'https://meet.google.com.evil.example/abc-defg-hij', /unsupported meeting link host/],
    ['zoom look-alike', 'https://notzoom.us/j/81234567890', /unsupported meeting link host/],
    ['Meet bare host', 'https://meet.google.com/', /no meeting code/],
    ['Meet /new', 'https://meet.google.com/new', /not joinable/],
    ['Meet /landing', 'https://meet.google.com/landing?authuser=0', /not joinable/],
    ['Meet /lookup/', 'https://meet.google.com/lookup/ab3cdefghi', /not joinable/],
    ['Meet invalid code', 'https://meet.google.com/ab_c!', /not a valid Google Meet code/],
    ['Meet extra path', 'https://meet.google.com/abc-defg-hij/extra', /not a Google Meet meeting link/],
    ['SafeLinks without target', 'https://nam06.safelinks.protection.outlook.com/?data=05%7C02', /SafeLinks link without a target/],
    ['Google redirect to elsewhere', googleRedirect('https://example.com/agenda'), /unsupported meeting link host "example\.com"/],
    ['Teams bare numeric meetup-join', 'https://teams.microsoft.com/l/meetup-join/123456789012', /numeric Teams meetup-join link cannot be joined/],
    ['Teams meetup-join without timestamp', `https://teams.microsoft.com/l/meetup-join/${THREAD_ENC}`, /incomplete/],
    ['Teams truncated context', `https://teams.microsoft.com/l/meetup-join/${THREAD_ENC}/0?context=%7b%22Tid%22%3a%2272f9`, /malformed context/],
    ['Teams /meet/ id too short', 'https://teams.microsoft.com/meet/12345?p=abc', /10 to 15 digits/],
    ['Teams light-meetings without coords', 'https://teams.microsoft.com/light-meetings/launch?agent=web', /no coords/],
    ['Teams other page', 'https://teams.microsoft.com/v2/', /not a Teams meeting link/],
    ['Teams app link to a chat', 'msteams:/l/chat/0/0?users=ada@contoso.com', /not a Teams meeting link/],
    ['msteams: link to another host', 'msteams://example.com/l/meetup-join/x/0', /unsupported meeting link host "example\.com"/],
    ['Zoom /my/ personal link', 'https://acme.zoom.us/my/ada.lovelace', /personal links/],
    ['Zoom Events', 'https://events.zoom.us/ev/AbCdEf123', /Zoom Events/],
    ['Zoom id too short', 'https://zoom.us/j/12345678', /9 to 11 digits/],
    ['Zoom id too long', 'https://zoom.us/j/123456789012', /9 to 11 digits/],
    ['Zoom registration page', 'https://us02web.zoom.us/meeting/register/tZ0kcOupqDgsGdGHPZkH', /not a Zoom meeting link/],
  ])('%s', (_name, input, reason) => {
    const r = parseMeetingUrl(input as string);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe('meetingKey', () => {
  it.each<[string, string, string]>([
    ['Zoom regional vs zoom.com host', 'https://zoom.com/j/81234567890?pwd=abc123', 'https://us02web.zoom.us/j/81234567890?pwd=abc123'],
    ['Zoom pwd version suffix and spaced id', 'https://zoom.us/j/812 3456 7890?pwd=abc123.1', 'https://acme.zoom.us/wc/join/81234567890?pwd=abc123'],
    ['Teams SafeLinks vs launcher vs plain', safelinks(TEAMS_JOIN), `https://teams.microsoft.com/dl/launcher/launcher.html?url=${encodeURIComponent(`/_#/l/meetup-join/${THREAD_ENC}/0?context=${CONTEXT_ENC}`)}`],
    ['Teams /meet/ with and without passcode', 'https://teams.microsoft.com/meet/2345678901234?p=AbCd', 'https://teams.cloud.microsoft/meet/2345678901234'],
    ['Meet code spellings', 'MEET.GOOGLE.COM/ABCDEFGHIJ', googleRedirect('https://meet.google.com/abc-defg-hij?authuser=2')],
  ])('is equal for two spellings: %s', (_name, a, b) => {
    expect(meetingKey(parsed(a))).toBe(meetingKey(parsed(b)));
  });

  it.each<[string, string, string]>([
    ['Zoom different passcodes', 'https://zoom.us/j/81234567890?pwd=abc123', 'https://zoom.us/j/81234567890?pwd=xyz789'],
    ['Zoom different ids', 'https://zoom.us/j/81234567890', 'https://zoom.us/j/81234567891'],
    ['Zoom vs ZoomGov', 'https://zoom.us/j/1612345678', 'https://zoomgov.com/j/1612345678'],
    ['Meet different codes', 'https://meet.google.com/abc-defg-hij', 'https://meet.google.com/abc-defg-hik'],
    [
      'Teams channel meetings in one channel',
      `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(CHANNEL_THREAD)}/1714480000123?context=${CONTEXT_ENC}`,
      `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(CHANNEL_THREAD)}/1714489999999?context=${CONTEXT_ENC}`,
    ],
    ['Teams /meet/ on work vs free Teams', 'https://teams.microsoft.com/meet/2345678901234', 'https://teams.live.com/meet/2345678901234'],
    ['same id on different platforms', 'https://zoom.us/j/2345678901', 'https://teams.microsoft.com/meet/2345678901'],
  ])('differs for different meetings: %s', (_name, a, b) => {
    expect(meetingKey(parsed(a))).not.toBe(meetingKey(parsed(b)));
  });
});

describe('findMeetingUrls', () => {
  const teamsHtml = `<div><span>Microsoft Teams meeting</span><br><b>Join on your computer, mobile app or room device</b><br>
<a href="${safelinks(TEAMS_JOIN).replace(/&/g, '&amp;')}" originalsrc="${TEAMS_JOIN.replace(/&/g, '&amp;')}" target="_blank" rel="noreferrer noopener">Click here to join the meeting</a><br>
Meeting ID: 234 567 890 123<br>Passcode: AbC123<br></div>`;
  const outlookPlainText = `________________________________________________________________________________
Microsoft Teams meeting
Join on your computer, mobile app or room device
Click here to join the meeting<${TEAMS_JOIN}>
Meeting ID: 234 567 890 123
Passcode: AbC123
Learn More<https://aka.ms/JoinTeamsMeeting> | Meeting options<https://teams.microsoft.com/meetingOptions/?organizerId=${OID}>
________________________________________________________________________________`;
  const zoomInvite = `Ada Lovelace is inviting you to a scheduled Zoom meeting.

Join Zoom Meeting
https://us02web.zoom.us/j/81234567890?pwd=dGhpc2lz.1

Meeting ID: 812 3456 7890
Passcode: 123456
One tap mobile
+16469313860,,81234567890#,,,,*123456# US`;
  const gcalDescription = `Join with Google Meet: <a href="${googleRedirect('https://meet.google.com/abc-defg-hij').replace(/&/g, '&amp;')}">meet.google.com/abc-defg-hij</a><br>Or dial: (US) +1 650-555-0100 PIN: 123456789#`;

  it.each<[string, string, string[]]>([
    ['Outlook HTML body with SafeLinks href and originalsrc', teamsHtml, [TEAMS_CANONICAL]],
    ['Outlook plain-text body', outlookPlainText, [TEAMS_CANONICAL]],
    ['Zoom invitation text', zoomInvite, ['https://us02web.zoom.us/j/81234567890?pwd=dGhpc2lz.1']],
    ['Google Calendar description with redirect href', gcalDescription, ['https://meet.google.com/abc-defg-hij']],
    ['calendar location without scheme', 'Room 4B / meet.google.com/xyz-abcd-uvw', ['https://meet.google.com/xyz-abcd-uvw']],
    ['sentence punctuation around links', 'Join here (https://zoom.us/j/123456789). Backup: https://meet.google.com/abc-defg-hij.', ['https://zoom.us/j/123456789', 'https://meet.google.com/abc-defg-hij']],
    ['markdown link', 'Weekly sync: [join](https://teams.microsoft.com/meet/2345678901234?p=AbCd12)', ['https://teams.microsoft.com/meet/2345678901234?p=AbCd12']],
    ['entity-encoded query', '<a href="https://zoom.us/j/81234567890?pwd=abc&amp;uname=Ada">join</a>', ['https://zoom.us/j/81234567890?pwd=abc']],
    ['raw JSON context in quotes-free text', `Teams: https://teams.microsoft.com/l/meetup-join/${THREAD_ENC}/0?context={"Tid":"${TID}","Oid":"${OID}"} see you`, [TEAMS_CANONICAL]],
    ['several platforms in order, duplicates removed', `1) https://zoom.com/j/81234567890?pwd=abc 2) meet.google.com/abc-defg-hij 3) https://us02web.zoom.us/j/81234567890?pwd=abc`, ['https://zoom.us/j/81234567890?pwd=abc', 'https://meet.google.com/abc-defg-hij']],
    ['no meeting links', 'Lunch at https://example.com/menu, email ada@zoom.us, call +1 650 555 0100', []],
    ['ignores unjoinable links', 'https://zoom.us/my/ada and https://meet.google.com/new', []],
  ])('%s', (_name, text, urls) => {
    expect(findMeetingUrls(text).map((m) => m.url)).toEqual(urls);
  });
});
