/** Dates people say, resolved against the meeting's day (table-driven). */
import { describe, expect, it } from 'vitest';
import { calendarDayOf, dueDateIn, findDates } from './relative-dates.js';

// Wednesday 4 March 2026.
const WED = { y: 2026, m: 3, d: 4 };

describe('dueDateIn', () => {
  it.each([
    ['send it today', '2026-03-04'],
    ['by end of day', '2026-03-04'],
    ['tomorrow morning', '2026-03-05'],
    ['the day after tomorrow', '2026-03-06'],
    ['by Friday', '2026-03-06'],
    ['on Wednesday', '2026-03-11'],
    ['by Monday', '2026-03-09'],
    ['next Monday', '2026-03-09'],
    ['next Friday', '2026-03-13'],
    ['this week', '2026-03-06'],
    ['by the end of the week', '2026-03-06'],
    ['next week', '2026-03-13'],
    ['early next week', '2026-03-09'],
    ['by the end of next week', '2026-03-13'],
    ['in two weeks', '2026-03-18'],
    ['within 3 days', '2026-03-07'],
    ['in a couple of days', '2026-03-06'],
    ['in a month', '2026-04-04'],
    ['by the end of the month', '2026-03-31'],
    ['next month', '2026-04-30'],
    ['end of the quarter', '2026-03-31'],
    ['before March 12th', '2026-03-12'],
    ['on the 2nd of April', '2026-04-02'],
    // Already past on 4 March: next year's.
    ['by march third', '2027-03-03'],
    ['by 2026-05-01', '2026-05-01'],
    ['by February 10', '2027-02-10'],
  ])('%s → %s', (text, date) => {
    expect(dueDateIn(text, WED)?.date).toBe(date);
  });

  it.each(['last Friday', "Saturday's outage", 'yesterday', 'nothing dated here', 'we may go', 'the second week of march'])(
    'no due date in "%s"',
    (text) => {
      expect(dueDateIn(text, WED)).toBeNull();
    },
  );

  it('prefers a deadline ("by …") over a mere mention', () => {
    const d = dueDateIn('after the review on Monday, send it by Friday', WED);
    expect(d).toMatchObject({ date: '2026-03-06', deadline: true });
  });

  it('finds every date in order without overlapping phrases', () => {
    expect(findDates('next week, then in two weeks and by the end of the month', WED).map((d) => d.date)).toEqual([
      '2026-03-13',
      '2026-03-18',
      '2026-03-31',
    ]);
  });
});

describe('calendarDayOf', () => {
  it('reads the day in the meeting zone', () => {
    const at = new Date('2026-03-04T23:30:00Z');
    expect(calendarDayOf(at, 'UTC')).toEqual({ y: 2026, m: 3, d: 4 });
    expect(calendarDayOf(at, 'Europe/Berlin')).toEqual({ y: 2026, m: 3, d: 5 });
    expect(calendarDayOf(at, 'Not/AZone')).toEqual({ y: 2026, m: 3, d: 4 });
  });
});
