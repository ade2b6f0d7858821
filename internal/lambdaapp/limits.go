package lambdaapp

import (
	"fmt"
	"os"
	"strconv"

	"github.com/teamusers/usersapi/internal/users"
)

// LimitVariables name the environment variable of each limit (the
// template sets them from its parameters of the same meaning).
var LimitVariables = []struct {
	Name, Parameter string
	Field           func(*users.Limits) *int
}{
	{"INVITATIONS_PER_TEAM_PER_DAY", "InvitationsPerTeamPerDay", func(l *users.Limits) *int { return &l.InvitationsPerDay }},
	{"TEAM_JOBS_PER_TEAM_PER_HOUR", "TeamJobsPerTeamPerHour", func(l *users.Limits) *int { return &l.TeamJobsPerHour }},
	{"ACCEPTS_PER_ADDRESS_PER_MINUTE", "AcceptsPerAddressPerMinute", func(l *users.Limits) *int { return &l.AcceptsPerMinute }},
	{"CALLS_PER_MEMBER_PER_DAY", "CallsPerMemberPerDay", func(l *users.Limits) *int { return &l.CallsPerMemberPerDay }},
	{"SIGN_INS_PER_MEMBER_PER_DAY", "SignInsPerMemberPerDay", func(l *users.Limits) *int { return &l.SignInsPerMemberPerDay }},
}

// limitsFromEnv reads the limits; each is a whole number of at least 1.
func limitsFromEnv(l *users.Limits) error {
	for _, v := range LimitVariables {
		s := os.Getenv(v.Name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("%s must be a whole number of at least 1", v.Name)
		}
		*v.Field(l) = n
	}
	return nil
}
