package users

import "time"

// Activity is one report from the desktop app: a sign-in, or a finished
// call (its end is the activity time).
type Activity struct {
	At         time.Time
	SignIn     bool
	AppVersion string
	Device     string
	Seconds    int    // a call's duration
	CallID     string // a call's identity: reports of one call count once
}

// SignIn is one recorded app sign-in.
type SignIn struct {
	TeamID     string
	MemberID   string
	At         time.Time
	AppVersion string
	Device     string
}

// Usage is calls and talk seconds in a period, and when the last call
// reported in it ended (zero when unknown).
type Usage struct {
	Calls    int
	Seconds  int
	LastCall time.Time
}
