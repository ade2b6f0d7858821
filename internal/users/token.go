package users

// InvitationTokenLength is the length of an invitation token: 256 random
// bits in unpadded base64url.
const InvitationTokenLength = 43

// ValidInvitationToken reports whether s has the shape of an invitation
// token (43 characters of A–Z, a–z, 0–9, "-" and "_"), so that nothing
// else is hashed and looked up.
func ValidInvitationToken(s string) bool {
	if len(s) != InvitationTokenLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
