// Package lambdaapp is the start-up of every function: configuration from
// the environment, parsed and checked once; AWS clients built once per cold
// start; and the adapter from API Gateway v2 events to net/http handlers.
// The local stack builds its handlers with the same constructors.
package lambdaapp

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/mail"
	"github.com/teamusers/usersapi/internal/nightly"
	"github.com/teamusers/usersapi/internal/report"
	"github.com/teamusers/usersapi/internal/roster"
	"github.com/teamusers/usersapi/internal/secret"
	"github.com/teamusers/usersapi/internal/users"
)

// Config is the functions' environment.
type Config struct {
	TableName        string        // TABLE_NAME
	Secret           []byte        // APP_SECRET: signs cursors, seals tokens in the outbox; at least 32 bytes
	DynamoDBEndpoint string        // DYNAMODB_ENDPOINT, only to point at a local server
	SESEndpoint      string        // SES_ENDPOINT, likewise
	MailFrom         string        // MAIL_FROM
	ConfigurationSet string        // SES_CONFIGURATION_SET: publishes bounces and complaints
	Links            mail.Links    // ACCEPT_URL, DOWNLOAD_URL
	Policy           users.Policy  // INVITATION_TTL_DAYS (1–30), EMAIL_COOLDOWN_SECONDS
	SendRate         float64       // SES_MAX_SEND_RATE, emails a second
	ArchiveTable     string        // ARCHIVE_TABLE_NAME: old sign-ins
	Retention        time.Duration // SIGN_IN_RETENTION_DAYS, default 90
	DueShards        int           // DUE_SHARDS: the nightly work queue's shards (dynamo.WithDueShards)
	DueShardsBefore  int           // DUE_SHARDS_BEFORE: a larger count used before, still read by the nightly job (0: none)
}

// ConfigFromEnv parses and checks the environment.
func ConfigFromEnv() (Config, error) {
	c := Config{
		TableName:        os.Getenv("TABLE_NAME"),
		Secret:           []byte(os.Getenv("APP_SECRET")),
		DynamoDBEndpoint: os.Getenv("DYNAMODB_ENDPOINT"),
		SESEndpoint:      os.Getenv("SES_ENDPOINT"),
		MailFrom:         envOr("MAIL_FROM", "no-reply@example.com"),
		ConfigurationSet: os.Getenv("SES_CONFIGURATION_SET"),
		Links:            mail.Links{AcceptURL: envOr("ACCEPT_URL", "https://portal.example.com/invitations/accept"), DownloadURL: envOr("DOWNLOAD_URL", "https://example.com/download")},
		Policy:           users.DefaultPolicy,
		SendRate:         14,
		ArchiveTable:     os.Getenv("ARCHIVE_TABLE_NAME"),
		Retention:        users.DefaultRetention,
		DueShards:        dynamo.DefaultDueShards,
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
	if v := os.Getenv("SIGN_IN_RETENTION_DAYS"); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 31 || days > 3650 {
			return c, fmt.Errorf("SIGN_IN_RETENTION_DAYS must be a whole number from 31 to 3650")
		}
		c.Retention = time.Duration(days) * 24 * time.Hour
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

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// App is what a function is built from.
type App struct {
	Config Config
	AWS    aws.Config
	Store  *dynamo.Store
	Log    *slog.Logger
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

// NewSES builds an SES v2 client that sends each request once, pointed at
// endpoint when set.
func NewSES(cfg aws.Config, endpoint string) *sesv2.Client {
	return sesv2.NewFromConfig(cfg, mail.SESOptions, func(o *sesv2.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}

// Load reads the configuration and builds the clients.
func Load(ctx context.Context) (*App, error) {
	c, err := ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	store := dynamo.New(NewDynamoDB(awsCfg, c.DynamoDBEndpoint), c.TableName).WithRetention(c.Retention).WithArchive(c.ArchiveTable).WithDueShards(c.DueShards)
	return &App{Config: c, AWS: awsCfg, Store: store, Log: log}, nil
}

// MustLoad is Load for main: a function that cannot start says why and exits.
func MustLoad() *App {
	app, err := Load(context.Background())
	if err == nil && len(app.Config.Secret) < 32 {
		err = fmt.Errorf("APP_SECRET must be at least 32 bytes")
	}
	if err != nil {
		slog.Error("cannot start", "error", err.Error())
		os.Exit(1)
	}
	return app
}

// NewDeps builds the handlers' dependencies; the local stack uses it too.
func NewDeps(store *dynamo.Store, c Config, log *slog.Logger) httpapi.Deps {
	svc := &roster.Service{Store: store, Tokens: secret.NewSealer(c.Secret, "invitation-token"), Policy: c.Policy, Now: time.Now}
	return httpapi.Deps{
		Store: store, Roster: svc, Idem: store, Reports: store, Log: log, Now: time.Now,
		Jobs:    NewJobs(store, svc, log),
		Cursors: httpapi.NewCursors(secret.Derive(c.Secret, "list-cursor")),
	}
}

// NewJobs builds the team-job runner.
func NewJobs(store *dynamo.Store, svc *roster.Service, log *slog.Logger) *roster.Jobs {
	return &roster.Jobs{Service: *svc, JobStore: store, Log: log, PageSize: 100, Reserve: 20 * time.Second}
}

// NewDeliverer builds the outbox deliverer; the local stack uses it too.
func NewDeliverer(store *dynamo.Store, ses *sesv2.Client, c Config, log *slog.Logger) *mail.Deliverer {
	return &mail.Deliverer{
		Outbox: store, Sender: mail.SES{Client: ses, From: c.MailFrom, ConfigurationSet: c.ConfigurationSet}, Links: c.Links,
		Tokens: secret.NewSealer(c.Secret, "invitation-token"), Log: log,
		Pacer: store.SendSlots("ses", c.SendRate), Lease: 2 * time.Minute, Retries: 4,
		Reports: func(ctx context.Context, e users.Email) (mail.Message, error) {
			return ReportEmail(ctx, store, e)
		},
	}
}

// NewEmailEvents builds the handler of SES's bounce and complaint events;
// the local stack uses it too.
func NewEmailEvents(store *dynamo.Store, log *slog.Logger) *mail.Events {
	return &mail.Events{Store: store, Log: log}
}

// ReportEmail renders a queued usage-report email from current data.
func ReportEmail(ctx context.Context, src report.Source, e users.Email) (mail.Message, error) {
	p, err := report.ParsePeriod(e.Data["from"], e.Data["to"], time.Now())
	if err != nil {
		return mail.Message{}, err
	}
	rows, leftOut, err := report.Build(ctx, src, e.TeamID, strings.Split(e.Data["memberIds"], ","), p)
	if err != nil {
		return mail.Message{}, err
	}
	subject, text, html, csv := report.Email(e.Data["teamName"], rows, len(leftOut), p)
	return mail.Message{To: e.To, Subject: subject, Text: text, HTML: html,
		Attachments: []mail.Attachment{{Name: report.FileName(e.Data["teamName"], e.TeamID, p), ContentType: "text/csv; charset=utf-8", Data: csv}}}, nil
}

// NewNightly builds the nightly job as of at; the local stack uses it too.
// It reads every shard of the work queue the stack writes, and those of a
// larger count used before (DueShardsBefore), whose entries may still be
// there.
func NewNightly(store *dynamo.Store, c Config, at time.Time) nightly.Job {
	s := store.WithRetention(c.Retention).WithDueShards(c.DueShards).WithClock(func() time.Time { return at })
	return nightly.Job{Store: s, Shards: max(s.DueShards(), c.DueShardsBefore), PageSize: 100, Workers: 8, Reserve: 30 * time.Second}
}

// Deps are the HTTP handlers' dependencies.
func (a *App) Deps() httpapi.Deps { return NewDeps(a.Store, a.Config, a.Log) }

// StartHTTP serves an HTTP handler as a Lambda behind an HTTP API (payload
// format 2.0). ProxyWithContext makes the invocation's deadline the
// request's context.
func StartHTTP(h http.Handler) {
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}
