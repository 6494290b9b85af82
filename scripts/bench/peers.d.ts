// Minimal types for moment-business-time, which ships none: it patches moment's prototype.
import 'moment';

declare module 'moment' {
  interface Moment {
    addWorkingTime(amount: number, unit: unitOfTime.Base): Moment;
    subtractWorkingTime(amount: number, unit: unitOfTime.Base): Moment;
    workingDiff(other: MomentInput, unit?: unitOfTime.Base, precise?: boolean): number;
    isWorkingTime(): boolean;
    isWorkingDay(): boolean;
  }
  interface LocaleSpecification {
    /** moment-business-time: weekday (0 = Sunday) to [open, close, …] as "HH:mm:ss", or null. */
    workinghours?: Record<number, string[] | null>;
    /** moment-business-time: dates "YYYY-MM-DD" (globs allowed) that are not worked. */
    holidays?: string[];
  }
}
