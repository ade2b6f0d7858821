// Package lambdaapp is the start-up every function shares: configuration
// from the environment, parsed and checked once; the AWS configuration and
// the DynamoDB store built once per cold start; the application secret
// (for the functions that need it, internal/secretstore loads it); the logger,
// the metrics writer; and the adapter from API
// Gateway v2 events to net/http handlers.
//
// It imports no service package (no handlers, mail, nightly job or
// reports): each function's main builds its own service from these parts,
// so a bootstrap links only what its main reaches. Check with
// `go list -deps ./functions/<name>`.
package lambdaapp

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	// The zone database inside the binary: Lambda's provided.al2023 runtime
	// has none, and NIGHTLY_TIME_ZONE names a zone (about 450 KB).
	_ "time/tzdata"
	"unicode"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/logging"
	"github.com/teamusers/usersapi/internal/metrics"
	"github.com/teamusers/usersapi/internal/users"
)

// Config is the functions' environment.
type Config struct {
	TableName        string         // TABLE_NAME
	SecretID         string         // APP_SECRET_ID: the Secrets Manager secret (ARN or name) that signs cursors and seals tokens
	Secret           []byte         // APP_SECRET: the secret itself, for tests and the local stack only (at least 32 bytes)
	DynamoDBEndpoint string         // DYNAMODB_ENDPOINT, only to point at a local server
	SESEndpoint      string         // SES_ENDPOINT, likewise
	SecretsEndpoint  string         // SECRETS_MANAGER_ENDPOINT, likewise
	MailFrom         string         // MAIL_FROM
	ConfigurationSet string         // SES_CONFIGURATION_SET: publishes bounces and complaints
	AcceptURL        string         // ACCEPT_URL: the portal page that accepts invitations
	DownloadURL      string         // DOWNLOAD_URL: the desktop app's download page
	Policy           users.Policy   // INVITATION_TTL_DAYS (1–30), EMAIL_COOLDOWN_SECONDS, the limits (limits.go)
	SendRate         float64        // SES_MAX_SEND_RATE, emails a second
	ArchiveTable     string         // ARCHIVE_TABLE_NAME: old sign-ins
	Retention        time.Duration  // SIGN_IN_RETENTION_DAYS, default 90
	Zone             *time.Location // NIGHTLY_TIME_ZONE (IANA), default UTC: where days are counted (buckets, the day of last activity)
	DueShards        int            // DUE_SHARDS: the nightly work queue's shards (dynamo.WithDueShards)
	DueShardsBefore  int            // DUE_SHARDS_BEFORE: a larger count used before, still read by the nightly job (0: none)
	AuditRetention   time.Duration  // AUDIT_RETENTION_DAYS, default 365
	MetricsNamespace string         // METRICS_NAMESPACE: where the business metrics go (one per stack)
	// DOWNLOAD_URL_WINDOWS, DOWNLOAD_URL_MACOS: the direct download for
	// each desktop OS; empty derives them from DOWNLOAD_URL (?os=…).
	DownloadWindowsURL, DownloadMacURL string
	// The emails' brand: PRODUCT_NAME, LOGO_URL (empty: the name in
	// text), ACCENT_COLOR (#rrggbb), MAIL_SENDER_NAME (From's display name
	// after "<team> via"; empty is the product's name). Only
	// DeliverEmailFunction is given them.
	ProductName, LogoURL, AccentColor, MailSenderName string
}

// ConfigFromEnv parses and checks the environment.
func ConfigFromEnv() (Config, error) {
	c := Config{
		TableName:        os.Getenv("TABLE_NAME"),
		SecretID:         os.Getenv("APP_SECRET_ID"),
		Secret:           []byte(os.Getenv("APP_SECRET")),
		DynamoDBEndpoint: os.Getenv("DYNAMODB_ENDPOINT"),
		SESEndpoint:      os.Getenv("SES_ENDPOINT"),
		SecretsEndpoint:  os.Getenv("SECRETS_MANAGER_ENDPOINT"),
		MailFrom:         envOr("MAIL_FROM", "no-reply@example.com"),
		ConfigurationSet: os.Getenv("SES_CONFIGURATION_SET"),
		AcceptURL:        envOr("ACCEPT_URL", "https://portal.example.com/invitations/accept"),
		DownloadURL:      envOr("DOWNLOAD_URL", "https://example.com/download"),
		Policy:           users.DefaultPolicy,
		SendRate:         14,
		ArchiveTable:     os.Getenv("ARCHIVE_TABLE_NAME"),
		Retention:        users.DefaultRetention,
		Zone:             time.UTC,
		DueShards:        dynamo.DefaultDueShards,
		MetricsNamespace: envOr("METRICS_NAMESPACE", "UsersApi"),

		DownloadWindowsURL: os.Getenv("DOWNLOAD_URL_WINDOWS"),
		DownloadMacURL:     os.Getenv("DOWNLOAD_URL_MACOS"),
		ProductName:        envOr("PRODUCT_NAME", "Krisp"),
		LogoURL:            os.Getenv("LOGO_URL"),
		AccentColor:        envOr("ACCENT_COLOR", "#4f46e5"),
		MailSenderName:     os.Getenv("MAIL_SENDER_NAME"),
	}
	if c.TableName == "" {
		return c, fmt.Errorf("TABLE_NAME is not set")
	}
	if v := os.Getenv("INVITATION_TTL_DAYS"); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 1 || days > 30 {
			return c, fmt.Errorf("INVITATION_TTL_DAYS must be a whole number from 1 to 30")
		}
		c.Policy.InvitationTTL = time.Duration(days) * 24 * time.Hour
	}
	if v := os.Getenv("EMAIL_COOLDOWN_SECONDS"); v != "" {
		s, err := strconv.Atoi(v)
		if err != nil || s < 0 || s > 86400 {
			return c, fmt.Errorf("EMAIL_COOLDOWN_SECONDS must be from 0 to 86400")
		}
		c.Policy.Cooldown = time.Duration(s) * time.Second
	}
	if err := limitsFromEnv(&c.Policy.Limits); err != nil {
		return c, err
	}
	if v := os.Getenv("SIGN_IN_RETENTION_DAYS"); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 31 || days > 3650 {
			return c, fmt.Errorf("SIGN_IN_RETENTION_DAYS must be a whole number from 31 to 3650")
		}
		c.Retention = time.Duration(days) * 24 * time.Hour
		c.Policy.Retention = c.Retention
	}
	if v := os.Getenv("NIGHTLY_TIME_ZONE"); v != "" && v != "UTC" {
		zone, err := time.LoadLocation(v)
		if err != nil {
			return c, fmt.Errorf("NIGHTLY_TIME_ZONE must be an IANA time zone such as Europe/Paris: %w", err)
		}
		c.Zone = zone
	}
	c.Policy.Zone = c.Zone
	if err := c.checkMail(); err != nil {
		return c, err
	}
	if v := os.Getenv("AUDIT_RETENTION_DAYS"); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 30 || days > 3650 {
			return c, fmt.Errorf("AUDIT_RETENTION_DAYS must be a whole number from 30 to 3650")
		}
		c.AuditRetention = time.Duration(days) * 24 * time.Hour
	}
	for _, e := range []struct {
		name string
		min  int
		to   *int
	}{{"DUE_SHARDS", 1, &c.DueShards}, {"DUE_SHARDS_BEFORE", 0, &c.DueShardsBefore}} {
		if v := os.Getenv(e.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < e.min || n > dynamo.MaxDueShards {
				return c, fmt.Errorf("%s must be a whole number from %d to %d", e.name, e.min, dynamo.MaxDueShards)
			}
			*e.to = n
		}
	}
	if v := os.Getenv("SES_MAX_SEND_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 {
			return c, fmt.Errorf("SES_MAX_SEND_RATE must be a positive number")
		}
		c.SendRate = r
	}
	return c, nil
}

// checkMail checks what the emails are made of: links that are absolute
// http(s) URLs, a #rrggbb colour, names of one line.
func (c Config) checkMail() error {
	for name, v := range map[string]string{"ACCEPT_URL": c.AcceptURL, "DOWNLOAD_URL": c.DownloadURL, "DOWNLOAD_URL_WINDOWS": c.DownloadWindowsURL,
		"DOWNLOAD_URL_MACOS": c.DownloadMacURL, "LOGO_URL": c.LogoURL} {
		if v == "" && name != "ACCEPT_URL" && name != "DOWNLOAD_URL" {
			continue
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(v, " \"'<>") {
			return fmt.Errorf("%s must be an absolute http(s) URL", name)
		}
	}
	if !accentColor.MatchString(c.AccentColor) {
		return fmt.Errorf("ACCENT_COLOR must be a colour like #4f46e5")
	}
	for name, v := range map[string]string{"PRODUCT_NAME": c.ProductName, "MAIL_SENDER_NAME": c.MailSenderName} {
		if len([]rune(v)) > 40 || strings.ContainsFunc(v, unicode.IsControl) || (name == "PRODUCT_NAME" && strings.TrimSpace(v) == "") {
			return fmt.Errorf("%s must be one line of at most 40 characters", name)
		}
	}
	return nil
}

var accentColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// AWSConfig is the SDK configuration from the environment the Lambda
// service sets: the region (AWS_REGION) and the execution role's
// credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
// which stay valid for the life of the execution environment. It does
// without the SDK's config package, whose default chain links the SSO, STS
// and instance-metadata clients (about 1.9 MB) that a function never uses.
func AWSConfig() (aws.Config, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	id, key := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if region == "" || id == "" || key == "" {
		return aws.Config{}, fmt.Errorf("AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (the Lambda service sets them)")
	}
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, key, os.Getenv("AWS_SESSION_TOKEN")),
	}, nil
}

// App is what a function is built from.
type App struct {
	Config  Config
	AWS     aws.Config
	Store   *dynamo.Store
	Log     *slog.Logger
	Metrics *metrics.Emitter
}

// NewDynamoDB builds a DynamoDB client with the store's retry policy,
// pointed at endpoint when set.
func NewDynamoDB(cfg aws.Config, endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, dynamo.ClientOptions, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}

// Load reads the configuration and builds the store.
func Load() (*App, error) {
	log := logging.New(logging.Stdout)
	slog.SetDefault(log)
	c, err := ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	awsCfg, err := AWSConfig()
	if err != nil {
		return nil, err
	}
	store := dynamo.New(NewDynamoDB(awsCfg, c.DynamoDBEndpoint), c.TableName).WithRetention(c.Retention).WithZone(c.Zone).WithArchive(c.ArchiveTable).
		WithAuditRetention(c.AuditRetention).WithDueShards(c.DueShards)
	return &App{Config: c, AWS: awsCfg, Store: store, Log: log, Metrics: metrics.New(logging.Stdout, c.MetricsNamespace)}, nil
}

// MustLoad is Load for main: a function that cannot start says why and exits.
func MustLoad() *App {
	app, err := Load()
	if err != nil {
		Fail(err)
	}
	return app
}

// Fail logs why a function cannot start and exits; Lambda reports the
// failed init.
func Fail(err error) {
	slog.Error("cannot start", "error", err.Error())
	os.Exit(1)
}

// StartHTTP serves an HTTP handler as a Lambda behind an HTTP API (payload
// format 2.0). ProxyWithContext makes the invocation's deadline the
// request's context.
func StartHTTP(h http.Handler) {
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}
