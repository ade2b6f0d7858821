// Package metrics writes business metrics as CloudWatch Embedded Metric
// Format (EMF) lines to standard output: CloudWatch Logs turns each line
// into metric values, with no API call on the request path and no extra
// permission. Every metric carries the dimension Service=usersapi, and,
// when the caller names one, a second dimension set with it (for example
// Kind=invitation), so a metric can be read and alarmed on in total or
// split.
//
// The metric names are the constants below; template.yaml's alarms refer
// to them in the namespace METRICS_NAMESPACE (one per stack).
package metrics

import (
	"encoding/json"
	"io"
	"time"
)

// Metric names.
const (
	Invitations           = "Invitations"           // invitations created (one per invited address)
	EmailsSent            = "EmailsSent"            // SES accepted the message
	EmailsFailed          = "EmailsFailed"          // SES refused it, or it could not be rendered
	EmailsUncertain       = "EmailsUncertain"       // the send may or may not have gone: never retried
	EmailsBounced         = "EmailsBounced"         // SES reported a bounce (for the bounce handler)
	EmailsComplained      = "EmailsComplained"      // SES reported a complaint (likewise)
	EmailsRetried         = "EmailsRetried"         // released to be tried again later (throttled, 5xx)
	NightlyMembersChanged = "NightlyMembersChanged" // members whose status, bucket or expiry flag moved
	SignInsArchived       = "SignInsArchived"       // sign-ins DynamoDB's TTL deleted, written to the archive table (ArchiveSignInsFunction)
	NightlyRunsCompleted  = "NightlyRunsCompleted"  // 1 when a night's run reached the end of the queue
	NightlyRunDuration    = "NightlyRunDuration"    // from the run's instant to its end, hand-offs included
	TeamJobDuration       = "TeamJobDuration"       // from a team job's creation to its end
)

// Service is the value of the Service dimension on every metric.
const Service = "usersapi"

// Unit is a CloudWatch unit.
type Unit string

// Units used here.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
)

// Dim is one dimension.
type Dim struct{ Name, Value string }

// Emitter writes EMF lines. A nil Emitter writes nothing (tests, the local
// stack's in-process handlers).
type Emitter struct {
	w         io.Writer
	namespace string
	now       func() time.Time
}

// New writes to w (one Write per line) in namespace.
func New(w io.Writer, namespace string) *Emitter {
	return &Emitter{w: w, namespace: namespace, now: time.Now}
}

// Count records n of a countable thing.
func (e *Emitter) Count(name string, n int, dims ...Dim) {
	e.Put(name, float64(n), Count, dims...)
}

// Duration records a duration in milliseconds.
func (e *Emitter) Duration(name string, d time.Duration, dims ...Dim) {
	e.Put(name, float64(d.Milliseconds()), Milliseconds, dims...)
}

// Put writes one value of one metric.
func (e *Emitter) Put(name string, value float64, unit Unit, dims ...Dim) {
	if e == nil {
		return
	}
	sets := [][]string{{"Service"}}
	line := map[string]any{"Service": Service, name: value}
	if len(dims) > 0 {
		set := []string{"Service"}
		for _, d := range dims {
			set = append(set, d.Name)
			line[d.Name] = d.Value
		}
		sets = append(sets, set)
	}
	line["_aws"] = map[string]any{
		"Timestamp": e.now().UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  e.namespace,
			"Dimensions": sets,
			"Metrics":    []map[string]string{{"Name": name, "Unit": string(unit)}},
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	_, _ = e.w.Write(append(b, '\n'))
}
