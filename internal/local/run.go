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

	"github.com/teamusers/usersapi/internal/archive"
	"github.com/teamusers/usersapi/internal/delivery"
	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/emails"
	"github.com/teamusers/usersapi/internal/httpapi"
	appsecret "github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/lambdaapp"
	"github.com/teamusers/usersapi/internal/samtemplate"
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
	// Parameters are the template parameters the stack was started with.
	Parameters map[string]string
	// Simulator answers sends to SES's mailbox simulator addresses with
	// the bounce and complaint events SES would publish.
	Simulator *MailboxSimulator
	SESProxy  *SESFaultProxy // the functions' SES endpoint; the viewer and /store stay on Services.SESEndpoint
	stop      context.CancelFunc
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
	// ParameterOverrides sets template parameters as `sam deploy
	// --parameter-overrides` takes them ("EmailCooldownSeconds=0 …"); they
	// are checked against template.yaml before anything starts.
	ParameterOverrides string
	LogLevel           *slog.LevelVar // set by a LogLevel override, when not nil
	Faults             FaultOptions   // zero: no faults (see FaultOptionsFromEnv)
	TimeoutScale       float64        // function timeouts × this (GatewayOptions); 0: as in AWS
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
	params, err := tmpl.ParseOverrides(o.ParameterOverrides)
	if err != nil {
		return nil, fmt.Errorf("parameter overrides: %w", err)
	}
	// Invitation emails link to the page the gateway serves.
	portalURL := o.PortalURL
	if portalURL == "" {
		portalURL = DefaultPortalURL
	}
	cfg := lambdaapp.Config{
		TableName: TableName, MailFrom: "no-reply@usersapi.local", ConfigurationSet: ConfigurationSet,
		AcceptURL: portalURL + "/invitations/accept", DownloadURL: portalURL + "/download",
		Policy: users.DefaultPolicy, SendRate: 50, ArchiveTable: ArchiveTableName, Retention: users.DefaultRetention,
		DueShards: dynamo.DefaultDueShards,
	}
	if o.Policy != nil {
		cfg.Policy = *o.Policy
	}
	if o.SendRate > 0 {
		cfg.SendRate = o.SendRate
	}
	if err := ApplyParameters(params, &cfg, o.LogLevel); err != nil {
		return nil, fmt.Errorf("parameter overrides: %w", err)
	}
	svcs, err := StartServices(ctx, ServiceOptions{Root: o.Root, StateDir: o.StateDir, DynamoDBPort: o.DynamoDBPort, SESPort: o.SESPort, Faults: o.Faults})
	if err != nil {
		return nil, err
	}
	proxy, err := StartSESFaultProxy(svcs.SESEndpoint, 0, o.Faults, o.Log)
	if err != nil {
		svcs.Stop()
		return nil, err
	}
	stopAll := func() { _ = proxy.Close(); svcs.Stop() }
	cfg.DynamoDBEndpoint, cfg.SESEndpoint = svcs.DynamoDBEndpoint, proxy.URL
	// The application secret lives in the Secrets Manager stand-in (moto
	// serves it on the DynamoDB port), as it does in AWS.
	random := make([]byte, 32)
	_, _ = rand.Read(random)
	secret, err := EnsureSecret(ctx, svcs.DynamoDBEndpoint, hex.EncodeToString(random))
	if err != nil {
		stopAll()
		return nil, fmt.Errorf("local secret: %w", err)
	}
	cfg.Secret, cfg.SecretID, cfg.SecretsEndpoint = []byte(secret), SecretName, svcs.DynamoDBEndpoint
	db := NewDynamoDB(svcs.DynamoDBEndpoint)
	for logical, name := range map[string]string{"Table": TableName, "ArchiveTable": ArchiveTableName} {
		if err := EnsureTable(ctx, db, tmpl, logical, name); err != nil {
			stopAll()
			return nil, err
		}
	}
	keys := o.Keys
	if keys == nil {
		if keys, err = NewKeys(); err != nil {
			stopAll()
			return nil, err
		}
	}
	store := dynamo.New(db, TableName).WithArchive(ArchiveTableName).WithRetention(cfg.Retention).WithZone(cfg.Zone).WithAuditRetention(cfg.AuditRetention).WithDueShards(cfg.DueShards)
	keyring := appsecret.New(cfg.Secret)
	deps := httpapi.NewDeps(store, keyring, cfg.Policy, o.Log, nil)
	gw, err := NewGatewayWith(tmpl, deps, keys, o.Log, GatewayOptions{TimeoutScale: o.TimeoutScale})
	if err != nil {
		stopAll()
		return nil, err
	}
	deliverer := delivery.NewDeliverer(store, store, store.SendSlots("ses", cfg.SendRate), delivery.NewSESClient(AWSConfig(), cfg.SESEndpoint), mailSettings(cfg), keyring, o.Log, nil)
	simulator := &MailboxSimulator{Next: deliverer.Sender, Publish: delivery.NewEvents(store, o.Log, nil).Handle, Log: o.Log,
		Delay: 200 * time.Millisecond, Backoff: 250 * time.Millisecond, Retries: 6}
	deliverer.Sender = simulator
	poller := &StreamPoller{DB: db, Streams: NewStreams(svcs.DynamoDBEndpoint), Table: TableName, Log: o.Log, Timeout: 5 * time.Minute,
		Handlers: []StreamHandler{dynamo.EmailStream(deliverer.Deliver, o.Log), dynamo.JobStream(deps.Jobs.Run, o.Log), archive.Archiver{Store: store, Log: o.Log}.HandleStream}}
	pctx, stop := context.WithCancel(context.Background())
	go func() {
		if err := poller.Run(pctx); err != nil {
			o.Log.Error("stream poller stopped", "error", err.Error())
		}
	}()
	return &Stack{Services: svcs, Store: store, Keys: keys, Gateway: gw, Template: tmpl, Log: o.Log, Config: cfg, Deps: deps, Poller: poller,
		Simulator: simulator, Parameters: params, SESProxy: proxy, stop: stop}, nil
}

func mailSettings(c lambdaapp.Config) delivery.Settings {
	return delivery.Settings{From: c.MailFrom, ConfigurationSet: c.ConfigurationSet, SendRate: c.SendRate, Links: emails.Links{AcceptURL: c.AcceptURL, DownloadURL: c.DownloadURL, DownloadWindowsURL: c.DownloadWindowsURL, DownloadMacURL: c.DownloadMacURL},
		Brand: emails.Brand{Product: c.ProductName, LogoURL: c.LogoURL, Accent: c.AccentColor, SenderName: c.MailSenderName}}
}

// MailSettings are the deliverer's settings on this stack.
func (s *Stack) MailSettings() delivery.Settings { return mailSettings(s.Config) }

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

// Stop ends the poller, the SES fault proxy and the services.
func (s *Stack) Stop() {
	s.stop()
	_ = s.SESProxy.Close()
	s.Services.Stop()
}

// SetFaults changes, at once, how hostile both stand-ins are: rate, index
// lag, seed (0 keeps the current one) and kinds (nil: all). Counts keep
// running; FaultCounts reads them.
func (s *Stack) SetFaults(ctx context.Context, o FaultOptions) error {
	if _, err := s.Services.DynamoDBFaults().Set(ctx, o.settings(DynamoDBFaultKinds)); err != nil {
		return err
	}
	s.SESProxy.Configure(o)
	return nil
}

// FaultCounts are the faults both stand-ins have injected so far, by kind.
func (s *Stack) FaultCounts(ctx context.Context) (FaultCounts, error) {
	st, err := s.Services.DynamoDBFaults().State(ctx)
	if err != nil {
		return FaultCounts{}, err
	}
	return FaultCounts{DynamoDB: st.Counts, SES: s.SESProxy.State().Counts}, nil
}
