package users

import "time"

// Days. The page shows last activity as buckets of calendar days
// (Recently: today or the three days before; Last 7 days; Last 30 days;
// More than 30 days) and the list's rows carry the day of the last
// activity, so nothing of activity needs a finer grain than a day: a
// member's item and its index entries move at most once a day for it.
// A day is a date in the stack's NightlyTimeZone (the zone handed to these
// functions; UTC when the stack does not say), written YYYY-MM-DD.

// DayFormat is how a day is written: "2026-12-07".
const DayFormat = "2006-01-02"

// DayOf is the day t falls on in zone ("" for the zero time).
func DayOf(t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(zoneOr(zone)).Format(DayFormat)
}

// DaysBetween counts the calendar days from the day of a to the day of b
// in zone (0 on the same day, 1 for yesterday to today), whatever the
// hours and the daylight-saving changes in between.
func DaysBetween(a, b time.Time, zone *time.Location) int {
	z := zoneOr(zone)
	ya, ma, da := a.In(z).Date()
	yb, mb, db := b.In(z).Date()
	return int(time.Date(yb, mb, db, 0, 0, 0, 0, time.UTC).Sub(time.Date(ya, ma, da, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
}

// DayStart is the first instant of the day `days` days after the day of t
// in zone (midnight there; on a day that starts at a daylight-saving
// change, its first instant).
func DayStart(t time.Time, days int, zone *time.Location) time.Time {
	z := zoneOr(zone)
	y, m, d := t.In(z).Date()
	return time.Date(y, m, d+days, 0, 0, 0, 0, z)
}

// RetentionDays is a retention period in whole days (at least one).
func RetentionDays(retention time.Duration) int {
	return max(int(retention/(24*time.Hour)), 1)
}

func zoneOr(z *time.Location) *time.Location {
	if z == nil {
		return time.UTC
	}
	return z
}
