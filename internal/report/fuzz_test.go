package report

import (
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/users"
)

// FuzzParsePeriod: a report's from and to, as the caller gives them. An
// accepted period is whole UTC days, from not after to, 1 to 366 days; a
// refused one is invalid_period with words and an example, never Go's
// layout. Corpus: testdata/fuzz/FuzzParsePeriod.
func FuzzParsePeriod(f *testing.F) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	f.Add("2026-11-01", "2026-11-29")
	f.Fuzz(func(t *testing.T, from, to string) {
		p, err := ParsePeriod(from, to, now)
		if err != nil {
			e, ok := users.AsError(err)
			if !ok || e.Kind != users.KindInvalid || e.Code != "invalid_period" || strings.Contains(e.Message, "2006") {
				t.Fatalf("(%q, %q) refused with %v", from, to, err)
			}
			return
		}
		days := int(p.To.Sub(p.From).Hours()/24) + 1
		if days < 1 || days > MaxDays || !p.From.Equal(p.From.Truncate(24*time.Hour)) || !p.To.Equal(p.To.Truncate(24*time.Hour)) || p.From.Location() != time.UTC {
			t.Fatalf("(%q, %q) accepted as %v to %v (%d days)", from, to, p.From, p.To, days)
		}
	})
}
