package users

// Due item kinds: what the nightly job finds in its work queue.
const (
	DueMember = "member"
	DueSignIn = "signin"
)

// DueItem is one entry of the nightly work queue: a member whose bucket,
// status or invitation changes by time alone, or a sign-in old enough to
// archive.
type DueItem struct {
	Kind     string
	TeamID   string
	MemberID string
	SignIn   *SignIn // with DueSignIn
}
