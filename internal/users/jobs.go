package users

import (
	"errors"
	"time"
)

// Team job kinds: the Section 1 buttons.
const (
	JobResendInvites    = "resend_invites"
	JobSendInstructions = "send_instructions"
)

// Job is a team-wide action run in the background in bounded, checkpointed
// steps.
type Job struct {
	ID          string
	TeamID      string
	TeamName    string // for the emails it sends
	Kind        string
	RequestedBy string
	State       string // queued, running, done
	Position    string // where the next step starts; opaque
	Expected    int
	Done        int
	Skipped     int
	Reasons     map[string]int // skipped members by the reason's code
	Failed      int            // members the action failed for on our side
	Step        int            // bumped to hand the job to a fresh invocation
	CreatedAt   time.Time
}

// ErrJobMoved means another run advanced the job first.
var ErrJobMoved = errors.New("job checkpoint moved")
