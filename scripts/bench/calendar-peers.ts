// The two peer libraries, set up as a contact centre would: zone Europe/London, Monday–Friday
// 08:00–17:00, the England & Wales bank holidays. Each is asked the two questions Kept answers:
// the due instant (start + working duration) and the working time between two instants, both
// in epoch ms. Loaded only inside a peer worker (scripts/bench/peer-worker.ts); their types: scripts/bench/peers.d.ts.
import moment from 'moment-timezone';
import 'moment-business-time';
import dayjs from 'dayjs';
import utc from 'dayjs/plugin/utc.js';
import timezone from 'dayjs/plugin/timezone.js';
import businessTime from 'dayjs-business-time';
import type { PeerName } from './calendar-cases.js';

export interface Peer {
  /** Due instant (epoch ms) of `durationMs` of working time from `start`. */
  add(start: number, durationMs: number): number;
  /** Working time (ms) in [from, to). */
  count(from: number, to: number): number;
  /** How the peer was asked, for the report. */
  note: string;
}

export function makePeer(name: PeerName, zone: string, holidays: string[]): Peer {
  if (name === 'moment-business-time') {
    const day = ['08:00:00', '17:00:00'];
    moment.updateLocale('en', { workinghours: { 0: null, 1: day, 2: day, 3: day, 4: day, 5: day, 6: null }, holidays });
    return {
      add: (start, durationMs) => moment.tz(start, zone).addWorkingTime(durationMs, 'milliseconds').valueOf(),
      count: (from, to) => moment.tz(to, zone).workingDiff(moment.tz(from, zone), 'milliseconds', true),
      note: 'moment.tz(start, zone).addWorkingTime(ms, "milliseconds"); moment.tz(to, zone).workingDiff(moment.tz(from, zone), "milliseconds", true)',
    };
  }
  dayjs.extend(utc);
  dayjs.extend(timezone);
  dayjs.extend(businessTime);
  const day = [{ start: '08:00:00', end: '17:00:00' }];
  dayjs.setBusinessTime({ sunday: null, monday: day, tuesday: day, wednesday: day, thursday: day, friday: day, saturday: null });
  dayjs.setHolidays(holidays);
  return {
    // Its finest unit is the minute: durations go in as (fractional) minutes, results come back in minutes.
    add: (start, durationMs) => dayjs(start).tz(zone).addBusinessMinutes(durationMs / 60_000).valueOf(),
    count: (from, to) => dayjs(from).tz(zone).businessMinutesDiff(dayjs(to).tz(zone)) * 60_000,
    note: 'dayjs(start).tz(zone).addBusinessMinutes(ms / 60000); dayjs(from).tz(zone).businessMinutesDiff(dayjs(to).tz(zone)) × 60000',
  };
}
