package users

// What the mail service reports after it has taken an email: the
// recipient's server refused it, or the recipient marked it as spam. Both
// replace "sent" on the member's lastEmail.
const (
	EmailBounced    = "bounced"
	EmailComplained = "complained"
)
