package users

// What the mail service reports after it has taken an email: the
// recipient's server refused it, or the recipient marked it as spam. Both
// replace "sent" on the member's lastEmail.
const (
	EmailBounced    = "bounced"
	EmailComplained = "complained"
)

// EmailProblem says whether the last email to the member bounced or was
// marked as spam ("bounced", "complained"), or "" when neither: the member
// row shows it so a mistyped address does not hold a seat unnoticed. A
// newer email replaces lastEmail, so the flag clears when one is sent.
func (m Member) EmailProblem() string {
	if m.LastEmail == nil {
		return ""
	}
	switch m.LastEmail.State {
	case EmailBounced, EmailComplained:
		return m.LastEmail.State
	}
	return ""
}
