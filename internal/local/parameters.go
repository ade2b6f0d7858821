package local

import (
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/teamusers/usersapi/internal/lambdaapp"
)

// What each template parameter is on the local stack: `make run
// PARAMETER_OVERRIDES="…"` sets them as `sam deploy --parameter-overrides`
// does in AWS. The values were checked against the template's constraints
// (samtemplate.ParseOverrides) before they get here.
var localParameters = map[string]func(v string, c *lambdaapp.Config, level *slog.LevelVar){
	"InvitationExpiryDays": func(v string, c *lambdaapp.Config, _ *slog.LevelVar) {
		c.Policy.InvitationTTL = time.Duration(atoi(v)) * 24 * time.Hour
	},
	"EmailCooldownSeconds": func(v string, c *lambdaapp.Config, _ *slog.LevelVar) {
		c.Policy.Cooldown = time.Duration(atoi(v)) * time.Second
	},
	"SignInRetentionDays": func(v string, c *lambdaapp.Config, _ *slog.LevelVar) {
		c.Retention = time.Duration(atoi(v)) * 24 * time.Hour
		c.Policy.Retention = c.Retention
	},
	"AuditRetentionDays": func(v string, c *lambdaapp.Config, _ *slog.LevelVar) {
		c.AuditRetention = time.Duration(atoi(v)) * 24 * time.Hour
	},
	// Where days are counted: the buckets and the day of last activity (there
	// is no schedule locally: `make nightly AT=…` runs the job).
	"NightlyTimeZone": func(v string, c *lambdaapp.Config, _ *slog.LevelVar) {
		if z, err := time.LoadLocation(v); err == nil {
			c.Zone, c.Policy.Zone = z, z
		}
	},
	"DueShards":       func(v string, c *lambdaapp.Config, _ *slog.LevelVar) { c.DueShards = atoi(v) },
	"DueShardsBefore": func(v string, c *lambdaapp.Config, _ *slog.LevelVar) { c.DueShardsBefore = atoi(v) },
	"SesMaxSendRate": func(v string, c *lambdaapp.Config, _ *slog.LevelVar) {
		c.SendRate, _ = strconv.ParseFloat(v, 64)
	},
	"MailFrom":           func(v string, c *lambdaapp.Config, _ *slog.LevelVar) { c.MailFrom = v },
	"AcceptUrl":          func(v string, c *lambdaapp.Config, _ *slog.LevelVar) { c.AcceptURL = v },
	"DownloadUrl":        func(v string, c *lambdaapp.Config, _ *slog.LevelVar) { c.DownloadURL = v },
	"DownloadUrlWindows": func(v string, c *lambdaapp.Config, _ *slog.LevelVar) { c.DownloadWindowsURL = v },
	"DownloadUrlMacos":   func(v string, c *lambdaapp.Config, _ *slog.LevelVar) { c.DownloadMacURL = v },
	"ProductName":        func(v string, c *lambdaapp.Config, _ *slog.LevelVar) { c.ProductName = v },
	"MailSenderName":     func(v string, c *lambdaapp.Config, _ *slog.LevelVar) { c.MailSenderName = v },
	"LogoUrl":            func(v string, c *lambdaapp.Config, _ *slog.LevelVar) { c.LogoURL = v },
	"AccentColor":        func(v string, c *lambdaapp.Config, _ *slog.LevelVar) { c.AccentColor = v },
	"InvitationsPerTeamPerDay": func(v string, c *lambdaapp.Config, _ *slog.LevelVar) {
		c.Policy.Limits.InvitationsPerDay = atoi(v)
	},
	"TeamJobsPerTeamPerHour": func(v string, c *lambdaapp.Config, _ *slog.LevelVar) {
		c.Policy.Limits.TeamJobsPerHour = atoi(v)
	},
	"AcceptsPerAddressPerMinute": func(v string, c *lambdaapp.Config, _ *slog.LevelVar) {
		c.Policy.Limits.AcceptsPerMinute = atoi(v)
	},
	"CallsPerMemberPerDay": func(v string, c *lambdaapp.Config, _ *slog.LevelVar) {
		c.Policy.Limits.CallsPerMemberPerDay = atoi(v)
	},
	"SignInsPerMemberPerDay": func(v string, c *lambdaapp.Config, _ *slog.LevelVar) {
		c.Policy.Limits.SignInsPerMemberPerDay = atoi(v)
	},
	"LogLevel": func(v string, _ *lambdaapp.Config, level *slog.LevelVar) {
		if level != nil {
			_ = level.UnmarshalText([]byte(v))
		}
	},
}

// notLocal are the parameters that mean nothing on this machine, and why.
var notLocal = map[string]string{
	"JwtIssuer":            "the local gateway's identity provider is fixed (issuer " + Issuer + ")",
	"JwtAudience":          "the local gateway's identity provider is fixed (audience " + Audience + ")",
	"PortalOrigin":         "CORS allows the portal's dev server, " + PortalOrigin,
	"MailFromIdentityArn":  "the local SES has no identities",
	"AlarmTopicArn":        "there are no CloudWatch alarms locally",
	"AlarmEmail":           "there are no CloudWatch alarms locally",
	"AppRateLimit":         "the local gateway does not throttle (API Gateway's stage throttling is not emulated)",
	"AppBurstLimit":        "the local gateway does not throttle (API Gateway's stage throttling is not emulated)",
	"ApiRateLimit":         "the local gateway does not throttle (API Gateway's stage throttling is not emulated)",
	"ApiBurstLimit":        "the local gateway does not throttle (API Gateway's stage throttling is not emulated)",
	"HeavyRouteRateLimit":  "the local gateway does not throttle (API Gateway's stage throttling is not emulated)",
	"HeavyRouteBurstLimit": "the local gateway does not throttle (API Gateway's stage throttling is not emulated)",
	"LogRetentionDays":     "local logs are files in .state/run, kept until make clean",
	"SecretRotationDays":   "the local secret is made at start and not rotated on a schedule",
}

// checkLocal adds what the functions themselves require at start-up
// (lambdaapp.ConfigFromEnv) to the template's constraints: whole numbers of
// days and seconds, a positive send rate. A value the template allows but a
// function would refuse to start with is refused here too.
func checkLocal(name, v string) error {
	switch name {
	case "InvitationExpiryDays", "EmailCooldownSeconds", "SignInRetentionDays", "AuditRetentionDays", "DueShards", "DueShardsBefore",
		"InvitationsPerTeamPerDay", "TeamJobsPerTeamPerHour", "AcceptsPerAddressPerMinute", "CallsPerMemberPerDay", "SignInsPerMemberPerDay":
		if _, err := strconv.Atoi(v); err != nil {
			return fmt.Errorf("%s must be a whole number, not %q", name, v)
		}
	case "ProductName":
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("ProductName must have a letter, not only spaces")
		}
	case "NightlyTimeZone":
		if _, err := time.LoadLocation(v); err != nil {
			return fmt.Errorf("NightlyTimeZone must be an IANA time zone such as Europe/Paris, not %q", v)
		}
	case "SesMaxSendRate":
		if f, err := strconv.ParseFloat(v, 64); err != nil || f <= 0 {
			return fmt.Errorf("SesMaxSendRate must be a positive number, not %q", v)
		}
	}
	return nil
}

// ApplyParameters sets the local configuration (and the log level, when
// level is not nil) from template parameters. A parameter the local stack
// cannot honour is an error that says why, so nothing is silently ignored.
func ApplyParameters(params map[string]string, c *lambdaapp.Config, level *slog.LevelVar) error {
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if why, ok := notLocal[name]; ok {
			return fmt.Errorf("%s cannot be set on the local stack: %s", name, why)
		}
		set, ok := localParameters[name]
		if !ok {
			return fmt.Errorf("%s cannot be set on the local stack", name)
		}
		if err := checkLocal(name, params[name]); err != nil {
			return err
		}
		set(params[name], c, level)
	}
	return nil
}

// CanonicalParameters is the parameters as one stable string (sorted
// Name=Value pairs), to tell whether a running stack has the ones asked for.
func CanonicalParameters(params map[string]string) string {
	pairs := make([]string, 0, len(params))
	for k, v := range params {
		if v == "" || strings.ContainsAny(v, " \t\n\"'") {
			v = strconv.Quote(v)
		}
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, " ")
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
