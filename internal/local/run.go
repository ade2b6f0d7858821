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
	"github.com/teamusers/usersapi/internal/samtemplate"
)

// TableName is the local table's name.
const TableName = "users-local"

// Stack is a whole local system: services, table, store and gateway.
type Stack struct {
	Services *Services
	Store    *dynamo.Store
	Keys     *Keys
	Gateway  http.Handler
	Template *samtemplate.Template
	Log      *slog.Logger
}

// StackOptions configure Start.
type StackOptions struct {
	Root, StateDir        string
	DynamoDBPort, SESPort int
	Keys                  *Keys // nil: a fresh key
	Log                   *slog.Logger
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
	if err := EnsureTable(ctx, db, tmpl, TableName); err != nil {
		svcs.Stop()
		return nil, err
	}
	keys := o.Keys
	if keys == nil {
		if keys, err = NewKeys(); err != nil {
			svcs.Stop()
			return nil, err
		}
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	store := dynamo.New(db, TableName)
	deps := httpapi.Deps{Store: store, Cursors: httpapi.NewCursors([]byte(hex.EncodeToString(secret))), Log: o.Log, Now: time.Now}
	gw, err := NewGateway(tmpl, deps, keys, o.Log)
	if err != nil {
		svcs.Stop()
		return nil, err
	}
	return &Stack{Services: svcs, Store: store, Keys: keys, Gateway: gw, Template: tmpl, Log: o.Log}, nil
}

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

// Stop ends the services.
func (s *Stack) Stop() { s.Services.Stop() }
