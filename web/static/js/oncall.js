// On call and quiet hours in words: local times of a schedule's or quiet
// hours' time zone (as the API writes them, RFC 3339 in that zone, or
// "YYYY-MM-DDTHH:MM"), weekdays, and quiet-hours windows. The schedules
// page and the project form's on-call section share them.
//
// A local time is kept as its wall clock: the milliseconds of the same
// date and time in UTC ("wall ms"), so that days and hours of another time
// zone are counted without converting to the browser's zone.

import { lang, t } from "./i18n.js";

const DAY = 24 * 60 * 60 * 1000;
export { DAY };

// wall reads the local date and time of s ("2026-12-07T09:00:00+08:00",
// "2026-12-07T09:00" or "2026-12-07") as wall ms; NaN when it is none.
export function wall(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(String(s || ""));
  if (!m) return NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] || 0), Number(m[5] || 0));
}

// localInput is wall ms as a datetime-local value ("YYYY-MM-DDTHH:MM"),
// which is also how an override's range is written.
export function localInput(ms) {
  return new Date(ms).toISOString().slice(0, 16);
}

// dayKey is wall ms as "YYYY-MM-DD".
export function dayKey(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

function locale() {
  return lang() === "zh" ? "zh-CN" : "en-GB";
}

function fmt(ms, opts) {
  return new Intl.DateTimeFormat(locale(), Object.assign({ timeZone: "UTC" }, opts)).format(new Date(ms));
}

// wallDate words a day: 12月7日 周一 / Mon 7 Dec.
export function wallDate(ms) {
  return fmt(ms, { month: "short", day: "numeric", weekday: "short" });
}

// wallShortDate words a day without its weekday: 12月7日 / 7 Dec.
export function wallShortDate(ms) {
  return fmt(ms, { month: "short", day: "numeric" });
}

// wallClock is the time of day: 09:00.
export function wallClock(ms) {
  return new Date(ms).toISOString().slice(11, 16);
}

// wallTime words a moment: 12月7日 周一 09:00 / Mon 7 Dec 09:00.
export function wallTime(ms) {
  return wallDate(ms) + " " + wallClock(ms);
}

// weekdayName is ISO weekday n (1 = Monday) in words; narrow gives the
// shortest form (一 / M).
export function weekdayName(n, narrow) {
  // 2024-01-01 was a Monday.
  return fmt(Date.UTC(2024, 0, n), { weekday: narrow ? "narrow" : "short" });
}

// isoWeekday is the ISO weekday (1 = Monday … 7 = Sunday) of wall ms.
export function isoWeekday(ms) {
  return ((new Date(ms).getUTCDay() + 6) % 7) + 1;
}

// todayIn is today's date in time zone tz ("YYYY-MM-DD"; the browser's
// own day for a zone it does not know).
export function todayIn(tz) {
  const now = new Date();
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
  } catch (e) {
    return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  }
}

// timezoneList is the id of a datalist of the time zones the browser
// knows (made once, at the end of the body), for a time zone input's list.
export function timezoneList() {
  const id = "oncall-timezones";
  if (!document.getElementById(id)) {
    let zones;
    try {
      zones = Intl.supportedValuesOf("timeZone");
    } catch (e) {
      zones = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles"];
    }
    const list = document.createElement("datalist");
    list.id = id;
    for (const z of zones) list.append(new Option(z, z));
    document.body.append(list);
  }
  return id;
}

// daysText words a set of ISO weekdays: 每天, 周一至周五, 周一、周三.
export function daysText(days) {
  const set = Array.from(new Set((days || []).map(Number))).filter((d) => d >= 1 && d <= 7).sort();
  if (set.length === 7) return t("oncall.days.every");
  const runs = [];
  for (const d of set) {
    const last = runs[runs.length - 1];
    if (last && last[1] === d - 1) last[1] = d;
    else runs.push([d, d]);
  }
  const sep = lang() === "zh" ? "、" : ", ";
  return runs.map(([a, b]) => (b - a >= 2 ? t("oncall.days.range", { a: weekdayName(a), b: weekdayName(b) })
    : a === b ? weekdayName(a) : weekdayName(a) + sep + weekdayName(b))).join(sep);
}

// crossesMidnight says a window from–to ("HH:MM") ends the next day;
// from equal to to is the whole day.
export function crossesMidnight(from, to) {
  return Boolean(from && to && to < from);
}

// windowText words a quiet-hours window: 周一至周五 22:00–次日 08:00.
export function windowText(w) {
  const days = daysText(w.days);
  if (w.from && w.from === w.to) return t("oncall.window.allDay", { days });
  const key = crossesMidnight(w.from, w.to) ? "oncall.window.overnight" : "oncall.window";
  return t(key, { days, from: w.from, to: w.to });
}
