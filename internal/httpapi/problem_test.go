package httpapi

import (
	"testing"

	"github.com/teamusers/usersapi/internal/users"
)

func TestEveryKindMaps(t *testing.T) {
	for k := users.KindInternal; k <= users.KindRateLimited; k++ {
		if statusOf[k] < 400 {
			t.Errorf("error kind %d has no HTTP status", k)
		}
	}
}
