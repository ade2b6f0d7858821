package users

import "strings"

// The words the portal shows for each code. The page, the usage report and
// the emails all take them from here, so a member is "Invitation sent"
// everywhere (the help article's words).
var (
	statusLabels = map[Status]string{
		StatusInvitationSent:  "Invitation sent",
		StatusPendingAppLogin: "Pending app login",
		StatusActive:          "Active",
		StatusSignedInWithApp: "Signed in with app",
		"deactivated":         "Deactivated",
	}
	lastCallLabels = map[LastCall]string{
		LastCallPending:        "Pending",
		LastCallNotActive:      "Not active",
		LastCallRecently:       "Recently",
		LastCallLast7Days:      "Last 7 days",
		LastCallLast30Days:     "Last 30 days",
		LastCallMoreThan30Days: "More than 30 days",
	}
	roleLabels = map[Role]string{
		RoleUser:  "User",
		RoleAdmin: "Admin",
	}
	emailStateLabels = map[string]string{
		EmailQueued:     "Queued",
		EmailSending:    "Sending",
		EmailSent:       "Sent",
		EmailFailed:     "Not sent",
		EmailUncertain:  "Uncertain",
		EmailBounced:    "Bounced",
		EmailComplained: "Marked as spam",
	}
)

// Label is the status as the portal shows it.
func (s Status) Label() string { return label(statusLabels, s) }

// Label is the bucket as the portal shows it.
func (l LastCall) Label() string { return label(lastCallLabels, l) }

// Label is the role as the portal shows it.
func (r Role) Label() string { return label(roleLabels, r) }

// EmailStateLabel is an email's delivery state as the portal shows it.
func EmailStateLabel(state string) string { return label(emailStateLabels, state) }

// label falls back to the code made readable ("some_code" → "Some code"),
// so a code added without a label still reads as words.
func label[K ~string](table map[K]string, k K) string {
	if l, ok := table[k]; ok {
		return l
	}
	s := strings.ReplaceAll(string(k), "_", " ")
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
