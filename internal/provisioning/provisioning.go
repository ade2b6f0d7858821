// Package provisioning is the entry point the billing system invokes to
// create a team or change its plan and seats. Teams come from billing, never
// from the Users page.
package provisioning

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/teamusers/usersapi/internal/users"
)

// MaxSeats bounds a team's purchased seats.
const MaxSeats = 1_000_000

// Request creates a team when TeamID is empty, else changes it.
type Request struct {
	TeamID string `json:"teamId,omitempty"`
	Plan   string `json:"plan,omitempty"`
	Seats  *int   `json:"seats,omitempty"`
	// Name is the customer's name for the team, shown in the portal and
	// in every email (1–100 characters). A new team without one is named
	// after its owner.
	Name       string `json:"name,omitempty"`
	OwnerEmail string `json:"ownerEmail,omitempty"`
	// BillingAccountID makes creation idempotent: billing's retry of the
	// same creation gets the same team back instead of a second team.
	BillingAccountID string `json:"billingAccountId,omitempty"`
}

// Response names the team and its state after the change.
type Response struct {
	TeamID string `json:"teamId"`
	Name   string `json:"name"`
	Plan   string `json:"plan"`
	Seats  int    `json:"seats"`
}

// Store is what provisioning needs of the table.
type Store interface {
	CreateTeam(ctx context.Context, t users.Team, owner users.Member, billingAccount string) error
	GetTeam(ctx context.Context, teamID string) (users.Team, error)
	UpdateTeam(ctx context.Context, teamID string, c users.TeamChange) (users.Team, error)
}

// Service provisions teams.
type Service struct {
	Store Store
	Now   func() time.Time
}

// Handle validates and applies one request.
func (s Service) Handle(ctx context.Context, req Request) (Response, error) {
	ctx = users.WithAudit(ctx, users.Actor{Kind: users.ActorBilling, Name: "billing"}, users.AuditRequest{})
	if req.Seats != nil && (*req.Seats < 1 || *req.Seats > MaxSeats) {
		return Response{}, users.Errorf(users.KindInvalid, "invalid_seats", "seats must be from 1 to %d", MaxSeats)
	}
	plan := users.Plan(strings.TrimSpace(req.Plan))
	if req.Plan != "" && !validPlan(plan) {
		return Response{}, users.Errorf(users.KindInvalid, "invalid_plan", "plan must be a lower-case word such as pro or free")
	}
	var name *string
	if req.Name != "" {
		n, err := users.CheckTeamName(req.Name)
		if err != nil {
			return Response{}, err
		}
		name = &n
	}
	if req.TeamID == "" {
		return s.create(ctx, plan, name, req)
	}
	c := users.TeamChange{Name: name, Seats: req.Seats}
	if plan != "" {
		c.Plan = &plan
	}
	if c.Plan == nil && c.Seats == nil && c.Name == nil {
		return Response{}, users.Errorf(users.KindInvalid, "nothing_to_change", "give name, plan or seats to change a team")
	}
	if req.OwnerEmail != "" {
		return Response{}, users.Errorf(users.KindInvalid, "owner_immutable", "the owner of an existing team cannot be changed here")
	}
	t, err := s.Store.UpdateTeam(ctx, req.TeamID, c)
	if err != nil {
		return Response{}, err
	}
	return responseOf(t), nil
}

func responseOf(t users.Team) Response {
	return Response{TeamID: t.ID, Name: t.Name, Plan: string(t.Plan), Seats: t.Seats}
}

func (s Service) create(ctx context.Context, plan users.Plan, name *string, req Request) (Response, error) {
	email, ok := users.NormalizeEmail(req.OwnerEmail)
	if !ok {
		return Response{}, users.Errorf(users.KindInvalid, "invalid_email", "ownerEmail must be an email address")
	}
	if plan == "" || req.Seats == nil {
		return Response{}, users.Errorf(users.KindInvalid, "missing_field", "a new team needs plan, seats and ownerEmail")
	}
	now := s.Now().UTC()
	owner := users.Member{
		ID: users.NewID("m"), TeamID: users.NewID("t"), Email: email, Role: users.RoleAdmin, IsOwner: true,
		// The owner bought the team: joined from the start, never invited.
		Status: users.StatusPendingAppLogin, InvitedAt: now, AcceptedAt: now,
	}
	team := users.Team{ID: owner.TeamID, Plan: plan, Seats: *req.Seats, OwnerEmail: email, OwnerMemberID: owner.ID, CreatedAt: now}
	if name != nil {
		team.Name = *name
	} else {
		team.Name = email + "'s team"
	}
	if len(req.BillingAccountID) > 128 || !users.PrintableASCII(req.BillingAccountID) {
		return Response{}, users.Errorf(users.KindInvalid, "invalid_billing_account", "billingAccountId must be up to 128 printable characters")
	}
	err := s.Store.CreateTeam(ctx, team, owner, req.BillingAccountID)
	var taken *users.BillingAccountTaken
	if errors.As(err, &taken) {
		existing, err := s.Store.GetTeam(ctx, taken.TeamID)
		if err != nil {
			return Response{}, err
		}
		return responseOf(existing), nil
	}
	if err != nil {
		return Response{}, err
	}
	return responseOf(team), nil
}

func validPlan(p users.Plan) bool {
	if len(p) == 0 || len(p) > 32 {
		return false
	}
	for _, c := range p {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
