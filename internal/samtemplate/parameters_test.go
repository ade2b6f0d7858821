package samtemplate

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestParseOverridesAsSamDeployTakesThem(t *testing.T) {
	root, err := FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p := tmpl.Parameters()["InvitationExpiryDays"]
	if p.Type != "Number" || p.Default != "7" || *p.MinValue != 1 || *p.MaxValue != 30 {
		t.Fatalf("InvitationExpiryDays read as %+v", p)
	}
	got, err := tmpl.ParseOverrides(`EmailCooldownSeconds=0  InvitationExpiryDays=1 MailFrom="Team Users <users@example.com>" ParameterKey=LogLevel,ParameterValue=DEBUG AcceptUrl='http://localhost:5173/a b'`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"EmailCooldownSeconds": "0", "InvitationExpiryDays": "1", "MailFrom": "Team Users <users@example.com>", "LogLevel": "DEBUG", "AcceptUrl": "http://localhost:5173/a b"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if got, err := tmpl.ParseOverrides("   "); err != nil || len(got) != 0 {
		t.Fatalf("no overrides: %v %v", got, err)
	}
	for in, msg := range map[string]string{
		"EmailCooldown=0":                               "EmailCooldown is not a parameter of template.yaml (it has AcceptUrl,",
		"InvitationExpiryDays=0":                        "InvitationExpiryDays must be from 1 to 30, not 0",
		"InvitationExpiryDays=31":                       "InvitationExpiryDays must be from 1 to 30, not 31",
		"EmailCooldownSeconds=ten":                      `EmailCooldownSeconds must be a number, not "ten"`,
		"EmailCooldownSeconds=86401":                    "EmailCooldownSeconds must be from 0 to 86400, not 86401",
		"LogLevel=TRACE":                                `LogLevel must be one of DEBUG, INFO, WARN, ERROR, not "TRACE"`,
		"PortalOrigin=localhost:5173":                   `PortalOrigin must match ^https?://[^/]+$, not "localhost:5173"`,
		"InvitationExpiryDays":                          `"InvitationExpiryDays": a parameter override is Name=Value`,
		"InvitationExpiryDays=1 InvitationExpiryDays=2": "InvitationExpiryDays is given twice",
		`MailFrom="unclosed`:                            "an unclosed \" quote",
		"ParameterKey=LogLevel":                         "the long form is ParameterKey=Name,ParameterValue=Value",
	} {
		_, err := tmpl.ParseOverrides(in)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want %q", in, err, msg)
		}
	}
}
