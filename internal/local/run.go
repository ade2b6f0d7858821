package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/httpapi"
	"github.com/teamusers/usersapi/internal/lambdaapp"
	"github.com/teamusers/usersapi/internal/mail"
	"github.com/teamusers/usersapi/internal/samtemplate"
	appsecret "github.com/teamusers/usersapi/internal/secret"
	"github.com/teamusers/usersapi/internal/users"
)

// Local table names.
const (
	TableName        = "users-local"
	ArchiveTableName = "users-archive-local"
)

// Stack is a whole local system: services, table, store, gateway and the
// stream poller that delivers email and runs team jobs.
type Stack struct {
	Services *Services
	Store    *dynamo.Store
	Keys     *Keys
	Gateway  http.Handler
	Template *samtemplate.Template
	Log      *slog.Logger
	Config   lambdaapp.Config
	Deps     httpapi.Deps
	Poller   *StreamPoller
	stop     context.CancelFunc
}

// StackOptions configure Start.
type StackOptions struct {
	Root, StateDir        string
	DynamoDBPort, SESPort int
	Keys                  *Keys // nil: a fresh key
	Log                   *slog.Logger
	Policy                *users.Policy // nil: the defaults
	SendRate              float64       // emails a second; 0: 50
	PortalURL             string        // where the gateway serves the page (invitation links); "": DefaultPortalURL
}

// Start brings up the services, creates the table from the template and
// builds the gateway over the very handlers the functions serve.
func Start(ctx context.Context, o StackOptions) (*Stack, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	tmpl, err := samtemplate.Load(filepath.Join(o.Root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	svcs, err := StartServices(ctx, ServiceOptions{Root: o.Root, StateDir: o.StateDir, DynamoDBPort: o.DynamoDBPort, SESPort: o.SESPort})
	if err != nil {
		return nil, err
	}
	db := NewDynamoDB(svcs.DynamoDBEndpoint)
	for logical, name := range map[string]string{"Table": TableName, "ArchiveTable": ArchiveTableName} {
		if err := EnsureTable(ctx, db, tmpl, logical, name); err != nil {
			svcs.Stop()
			return nil, err
		}
	}
	keys := o.Keys
	if keys == nil {
		if keys, err = NewKeys(); err != nil {
			svcs.Stop()
			return nil, err
		}
	}
	// Invitation emails link to the page the gateway serves.
	portalURL := o.PortalURL
	if portalURL == "" {
		portalURL = DefaultPortalURL
	}
	random := make([]byte, 32)
	_, _ = rand.Read(random)
	secret, err := EnsureSecret(ctx, svcs.DynamoDBEndpoint, hex.EncodeToString(random))
	if err != nil {
		svcs.Stop()
		return nil, fmt.Errorf("local secret: %w", err)
	}
	cfg := lambdaapp.Config{
		TableName: TableName, Secret: []byte(secret), SecretID: SecretName, SecretsEndpoint: svcs.DynamoDBEndpoint,
		DynamoDBEndpoint: svcs.DynamoDBEndpoint, SESEndpoint: svcs.SESEndpoint, MailFrom: "no-reply@usersapi.local",
		AcceptURL: portalURL + "/invitations/accept", DownloadURL: PortalOrigin + "/download",
		Policy: users.DefaultPolicy, SendRate: 50, ArchiveTable: ArchiveTableName, Retention: users.DefaultRetention,
	}
	if o.Policy != nil {
		cfg.Policy = *o.Policy
	}
	if o.SendRate > 0 {
		cfg.SendRate = o.SendRate
	}
	store := dynamo.New(db, TableName).WithArchive(ArchiveTableName)
	keyring := appsecret.NewKeyring(cfg.Secret)
	deps := httpapi.NewDeps(store, keyring, cfg.Policy, o.Log, nil)
	gw, err := NewGateway(tmpl, deps, keys, o.Log)
	if err != nil {
		svcs.Stop()
		return nil, err
	}
	deliverer := mail.NewDeliverer(store, mail.NewSESClient(AWSConfig(), svcs.SESEndpoint), mailSettings(cfg), keyring, o.Log, nil)
	poller := &StreamPoller{DB: db, Streams: NewStreams(svcs.DynamoDBEndpoint), Table: TableName, Log: o.Log, Timeout: 5 * time.Minute,
		Handlers: []StreamHandler{deliverer.HandleStream, deps.Jobs.HandleStream}}
	pctx, stop := context.WithCancel(context.Background())
	go func() {
		if err := poller.Run(pctx); err != nil {
			o.Log.Error("stream poller stopped", "error", err.Error())
		}
	}()
	return &Stack{Services: svcs, Store: store, Keys: keys, Gateway: gw, Template: tmpl, Log: o.Log, Config: cfg, Deps: deps, Poller: poller, stop: stop}, nil
}

func mailSettings(c lambdaapp.Config) mail.Settings {
	return mail.Settings{From: c.MailFrom, Links: mail.Links{AcceptURL: c.AcceptURL, DownloadURL: c.DownloadURL}, SendRate: c.SendRate}
}

// MailSettings are the deliverer's settings on this stack.
func (s *Stack) MailSettings() mail.Settings { return mailSettings(s.Config) }

// Serve listens on 127.0.0.1:port until ctx ends.
func (s *Stack) Serve(ctx context.Context, port int) (string, func() error, error) {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: s.Gateway, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	return "http://" + l.Addr().String(), func() error { return srv.Serve(l) }, nil
}

// Stop ends the poller and the services.
func (s *Stack) Stop() {
	s.stop()
	s.Services.Stop()
}
