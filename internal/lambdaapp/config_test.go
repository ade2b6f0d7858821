package lambdaapp

import (
	"testing"

	"github.com/teamusers/usersapi/internal/dynamo"
)

func TestTheQueueShardsComeFromTheEnvironment(t *testing.T) {
	t.Setenv("TABLE_NAME", "t")
	c, err := ConfigFromEnv()
	if err != nil || c.DueShards != dynamo.DefaultDueShards || c.DueShardsBefore != 0 {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	t.Setenv("DUE_SHARDS", "128")
	t.Setenv("DUE_SHARDS_BEFORE", "16")
	if c, err = ConfigFromEnv(); err != nil || c.DueShards != 128 || c.DueShardsBefore != 16 {
		t.Fatalf("set: %+v %v", c, err)
	}
	for _, bad := range []string{"0", "1001", "many", "-3"} {
		t.Setenv("DUE_SHARDS", bad)
		if _, err := ConfigFromEnv(); err == nil {
			t.Errorf("DUE_SHARDS=%s accepted", bad)
		}
	}
}
