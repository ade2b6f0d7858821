package metrics

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The lines follow the EMF specification: a root "_aws" object with a
// millisecond Timestamp and one CloudWatchMetrics directive naming the
// namespace, the dimension sets and the metric with its unit; every
// dimension and the metric's value are top-level members.
func TestEMFShape(t *testing.T) {
	var buf bytes.Buffer
	e := New(&buf, "UsersApi/users-dev")
	e.now = func() time.Time { return time.UnixMilli(1796000000123) }
	e.Count(EmailsSent, 1, Dim{"Kind", "invitation"})
	e.Duration(NightlyRunDuration, 1500*time.Millisecond)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per value:\n%s", buf.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Service": "usersapi", "Kind": "invitation", "EmailsSent": 1.0,
		"_aws": map[string]any{
			"Timestamp": 1796000000123.0,
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  "UsersApi/users-dev",
				"Dimensions": []any{[]any{"Service"}, []any{"Service", "Kind"}},
				"Metrics":    []any{map[string]any{"Name": "EmailsSent", "Unit": "Count"}},
			}},
		},
	}
	if !reflect.DeepEqual(first, want) {
		t.Fatalf("EMF line\n got %v\nwant %v", first, want)
	}
	var second map[string]any
	_ = json.Unmarshal([]byte(lines[1]), &second)
	directive := second["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if second["NightlyRunDuration"] != 1500.0 || !reflect.DeepEqual(directive["Dimensions"], []any{[]any{"Service"}}) ||
		directive["Metrics"].([]any)[0].(map[string]any)["Unit"] != "Milliseconds" {
		t.Fatalf("duration line: %s", lines[1])
	}
	var nilEmitter *Emitter
	nilEmitter.Count(Invitations, 3) // no panic, no output
}
