package emails

import "testing"

// RFC 3492's and the registries' examples, and addresses as SES takes them.
func TestInternationalDomainsGoAsASCII(t *testing.T) {
	for in, want := range map[string]string{
		"bücher.example":   "xn--bcher-kva.example",
		"münchen.de":       "xn--mnchen-3ya.de",
		"例え.テスト":           "xn--r8jz45g.xn--zckzah",
		"правительство.рф": "xn--80aealotwbjpid2k.xn--p1ai",
		"acme.example":     "acme.example",
		"straße.de":        "xn--strae-oqa.de",
	} {
		if got := asciiDomain(in); got != want {
			t.Errorf("asciiDomain(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"anna@bücher.example": "anna@xn--bcher-kva.example",
		"anna@acme.example":   "anna@acme.example",
		"ånna@acme.example":   "", // SES cannot send to a local part beyond ASCII
	} {
		if got := CleanAddress(in); got != want {
			t.Errorf("CleanAddress(%q) = %q, want %q", in, got, want)
		}
	}
}
