package local

import (
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/lambdaapp"
	"github.com/teamusers/usersapi/internal/samtemplate"
)

// Every parameter of the template is either set on the local stack or
// refused with a reason: a new parameter cannot be silently ignored.
func TestEveryTemplateParameterHasALocalMeaning(t *testing.T) {
	root, err := samtemplate.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range tmpl.Parameters() {
		_, set := localParameters[name]
		_, refused := notLocal[name]
		if set == refused {
			t.Errorf("%s: the local stack must either set it or say why it cannot", name)
		}
	}
	for name := range localParameters {
		if _, ok := tmpl.Parameters()[name]; !ok {
			t.Errorf("%s is mapped but not in the template", name)
		}
	}
}

func TestApplyParameters(t *testing.T) {
	var c lambdaapp.Config
	level := new(slog.LevelVar)
	err := ApplyParameters(map[string]string{
		"InvitationExpiryDays": "1", "EmailCooldownSeconds": "0", "SignInRetentionDays": "45", "SesMaxSendRate": "2.5",
		"MailFrom": "a@b.example", "AcceptUrl": "http://x/accept", "DownloadUrl": "http://x/dl", "LogLevel": "DEBUG",
	}, &c, level)
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.InvitationTTL != 24*time.Hour || c.Policy.Cooldown != 0 || c.Retention != 45*24*time.Hour || c.SendRate != 2.5 ||
		c.MailFrom != "a@b.example" || c.AcceptURL != "http://x/accept" || c.DownloadURL != "http://x/dl" || level.Level() != slog.LevelDebug {
		t.Fatalf("config %+v, level %v", c, level.Level())
	}
	for params, msg := range map[string][2]string{
		"tz":   {"NightlyTimeZone", "Mars/Olympus_Mons"},
		"rate": {"SesMaxSendRate", "0"},
		"days": {"SignInRetentionDays", "40.5"},
	} {
		if err := ApplyParameters(map[string]string{msg[0]: msg[1]}, &c, nil); err == nil {
			t.Errorf("%s: %v accepted", params, msg)
		}
	}
	if got := CanonicalParameters(map[string]string{"MailFrom": "Team <a@b.example>", "EmailCooldownSeconds": "0"}); got != `EmailCooldownSeconds=0 MailFrom="Team <a@b.example>"` {
		t.Fatalf("canonical %s", got)
	}
}
