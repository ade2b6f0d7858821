// Dates and numbers in the browser's locale and time zone.
import { h } from './dom.js';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const number = new Intl.NumberFormat();

export const num = (n) => number.format(n);

// time renders an RFC 3339 instant as a <time> element; null → fallback text.
export function time(iso, { withTime = true, fallback = '—' } = {}) {
  if (!iso) return fallback;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return fallback;
  return h('time', { datetime: iso, title: dateTime.format(d) }, (withTime ? dateTime : dateOnly).format(d));
}

// day renders a calendar day (YYYY-MM-DD, as the list's rows carry the
// day of last activity) as a <time> element: the date itself, not an
// instant, so it reads the same in every time zone.
const dayOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
export function day(ymd, { fallback = '—' } = {}) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd || '');
  if (!m) return fallback;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return h('time', { datetime: ymd }, dayOnly.format(d));
}

export function timeText(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : dateTime.format(d);
}

// plural('user', 3) → "3 users"
export function plural(word, n, many = word + 's') {
  return `${num(n)} ${n === 1 ? word : many}`;
}

// inWords says "in 4 minutes" for a wait, in the browser's language.
export function inWords(seconds) {
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (seconds < 90) return rtf.format(Math.max(1, Math.round(seconds)), 'second');
  if (seconds < 90 * 60) return rtf.format(Math.round(seconds / 60), 'minute');
  return rtf.format(Math.round(seconds / 3600), 'hour');
}
