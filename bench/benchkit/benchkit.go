// Package benchkit is what every benchmark starts from: a quiet local stack
// in a temporary folder, and a pro team owned by owner@acme.example.
package benchkit

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/teamusers/usersapi/internal/local"
	"github.com/teamusers/usersapi/internal/provisioning"
	"github.com/teamusers/usersapi/internal/samtemplate"
)

// Owner is the benchmark team's owner (an admin).
const Owner = "owner@acme.example"

// Start starts the stack with o (Root, StateDir and Log are filled in) and
// creates a team of seats as of created. stop ends the stack and removes
// its folder.
func Start(o local.StackOptions, seats int, created time.Time) (stack *local.Stack, teamID string, stop func(), err error) {
	if o.Root, err = samtemplate.FindRoot(); err != nil {
		return nil, "", nil, err
	}
	state, err := os.MkdirTemp("", "usersapi-bench-")
	if err != nil {
		return nil, "", nil, err
	}
	o.StateDir = filepath.Join(state, "stack")
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if stack, err = local.Start(context.Background(), o); err != nil {
		os.RemoveAll(state)
		return nil, "", nil, err
	}
	stop = func() {
		stack.Stop()
		os.RemoveAll(state)
	}
	t, err := provisioning.Service{Store: stack.Store, Now: func() time.Time { return created }}.Handle(context.Background(),
		provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: Owner})
	if err != nil {
		stop()
		return nil, "", nil, err
	}
	return stack, t.TeamID, stop, nil
}

// NewTeam provisions another pro team of seats owned by owner.
func NewTeam(store provisioning.Store, seats int, owner string) (string, error) {
	t, err := provisioning.Service{Store: store, Now: time.Now}.Handle(context.Background(),
		provisioning.Request{Plan: "pro", Seats: &seats, OwnerEmail: owner})
	return t.TeamID, err
}
