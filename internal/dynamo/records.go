package dynamo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/internal/users"
)

type teamRecord struct {
	PK                 string `dynamodbav:"PK"`
	SK                 string `dynamodbav:"SK"`
	Type               string `dynamodbav:"type"`
	TeamID             string `dynamodbav:"teamId"`
	Name               string `dynamodbav:"name,omitempty"`
	Plan               string `dynamodbav:"plan"`
	Seats              int    `dynamodbav:"seats"`
	OwnerEmail         string `dynamodbav:"ownerEmail"`
	OwnerMemberID      string `dynamodbav:"ownerMemberId"`
	CreatedAt          string `dynamodbav:"createdAt"`
	Assigned           int    `dynamodbav:"assigned"`
	PendingInvitations int    `dynamodbav:"pendingInvitations"`
	NeverUsedApp       int    `dynamodbav:"neverUsedApp"`
	// NoRevokeNotice is TeamSettings.NotifyOnRevoke turned off. Stored
	// negated so that a team item without it (every team made before the
	// setting, and every new one) has the default, on.
	NoRevokeNotice bool `dynamodbav:"noRevokeNotice,omitempty"`
}

func (r teamRecord) domain() users.Team {
	return users.Team{
		ID: r.TeamID, Name: r.Name, Plan: users.Plan(r.Plan), Seats: r.Seats,
		OwnerEmail: r.OwnerEmail, OwnerMemberID: r.OwnerMemberID, CreatedAt: parseTime(r.CreatedAt),
		Counters: users.Counters{Assigned: r.Assigned, PendingInvitations: r.PendingInvitations, NeverUsedApp: r.NeverUsedApp},
		Settings: users.TeamSettings{NotifyOnRevoke: !r.NoRevokeNotice},
	}
}

func newTeamRecord(t users.Team) teamRecord {
	return teamRecord{
		PK: teamPK(t.ID), SK: skTeam, Type: "team", TeamID: t.ID, Name: t.Name, Plan: string(t.Plan), Seats: t.Seats,
		OwnerEmail: t.OwnerEmail, OwnerMemberID: t.OwnerMemberID, CreatedAt: fmtTime(t.CreatedAt),
		Assigned: t.Counters.Assigned, PendingInvitations: t.Counters.PendingInvitations, NeverUsedApp: t.Counters.NeverUsedApp,
		// A new team has the default settings; they change only through
		// UpdateTeam, so a zero Settings here never turns a notice off.
	}
}

// teamItem is the team's item: its record and one counter attribute per
// (status, bucket, role) combination that has members.
func teamItem(t users.Team) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(newTeamRecord(t))
	if err != nil {
		return nil, err
	}
	for f, n := range t.Facets {
		if n != 0 {
			item[facetAttr(f)] = num(n)
		}
	}
	return item, nil
}

// teamFromItem reads a team item back, facet counters included.
func teamFromItem(item map[string]types.AttributeValue) (users.Team, error) {
	var r teamRecord
	if err := attributevalue.UnmarshalMap(item, &r); err != nil {
		return users.Team{}, fmt.Errorf("decode team: %w", err)
	}
	t := r.domain()
	t.Facets = map[users.Facet]int{}
	for name, v := range item {
		f, ok := parseFacetAttr(name)
		if !ok {
			continue
		}
		if nv, ok := v.(*types.AttributeValueMemberN); ok {
			n, _ := strconv.Atoi(nv.Value)
			t.Facets[f] = n
		}
	}
	return t, nil
}

type emailRecord struct {
	ID     string `dynamodbav:"id,omitempty"`
	Kind   string `dynamodbav:"kind"`
	State  string `dynamodbav:"state"`
	At     string `dynamodbav:"at"`
	Reason string `dynamodbav:"reason,omitempty"`
}

type memberRecord struct {
	PK                  string       `dynamodbav:"PK"`
	SK                  string       `dynamodbav:"SK"`
	Type                string       `dynamodbav:"type"`
	TeamID              string       `dynamodbav:"teamId"`
	MemberID            string       `dynamodbav:"memberId"`
	Email               string       `dynamodbav:"email"`
	Role                string       `dynamodbav:"role"`
	IsOwner             bool         `dynamodbav:"isOwner"`
	Status              string       `dynamodbav:"status"`
	LastCall            string       `dynamodbav:"lastCall"`
	LastActiveAt        string       `dynamodbav:"lastActiveAt,omitempty"`
	LastActiveOn        string       `dynamodbav:"lastActiveOn,omitempty"` // its day in the store's zone: what rows show and ByLastActive sorts by
	InvitedAt           string       `dynamodbav:"invitedAt,omitempty"`
	InvitedBy           string       `dynamodbav:"invitedBy,omitempty"`
	InvitationSentAt    string       `dynamodbav:"invitationSentAt,omitempty"`
	InvitationExpiresAt string       `dynamodbav:"invitationExpiresAt,omitempty"`
	InvitationExpired   bool         `dynamodbav:"invitationExpired,omitempty"`
	AcceptedAt          string       `dynamodbav:"acceptedAt,omitempty"`
	FirstSignInAt       string       `dynamodbav:"firstSignInAt,omitempty"`
	LastSignInAt        string       `dynamodbav:"lastSignInAt,omitempty"`
	LastEmail           *emailRecord `dynamodbav:"lastEmail,omitempty"`
	EmailProblem        string       `dynamodbav:"emailProblem,omitempty"` // bounced or complained: the row's flag, derived from lastEmail
	TokenHash           string       `dynamodbav:"tokenHash,omitempty"`
	InstructionsSentAt  string       `dynamodbav:"instructionsSentAt,omitempty"`
	DeactivatedAt       string       `dynamodbav:"deactivatedAt,omitempty"`
	ExternalID          string       `dynamodbav:"externalId,omitempty"`
	UserName            string       `dynamodbav:"userName,omitempty"`
	IdPData             string       `dynamodbav:"idpData,omitempty"`
	ProvisionedBy       string       `dynamodbav:"provisionedBy,omitempty"`
	UpdatedAt           string       `dynamodbav:"updatedAt,omitempty"`
	Version             int          `dynamodbav:"version"`

	FacetPK   string `dynamodbav:"facetPK"`
	EmailSK   string `dynamodbav:"emailSK"`
	ActiveSK  string `dynamodbav:"activeSK"`
	InvitedSK string `dynamodbav:"invitedSK"`
	DomainSK  string `dynamodbav:"domainSK"`
	DuePK     string `dynamodbav:"duePK,omitempty"`
	DueSK     string `dynamodbav:"dueSK,omitempty"`
}

func newMemberRecord(m users.Member) memberRecord {
	r := memberRecord{
		PK: teamPK(m.TeamID), SK: memberSK(m.ID), Type: "member", TeamID: m.TeamID, MemberID: m.ID,
		Email: m.Email, Role: string(m.Role), IsOwner: m.IsOwner, Status: string(m.Status), LastCall: string(m.LastCall),
		LastActiveAt: fmtTime(m.LastActiveAt), InvitedAt: fmtTime(m.InvitedAt), InvitedBy: m.InvitedBy,
		InvitationSentAt: fmtTime(m.InvitationSentAt), InvitationExpiresAt: fmtTime(m.InvitationExpiresAt),
		InvitationExpired: m.InvitationExpired, AcceptedAt: fmtTime(m.AcceptedAt),
		FirstSignInAt: fmtTime(m.FirstSignInAt), LastSignInAt: fmtTime(m.LastSignInAt),
		InstructionsSentAt: fmtTime(m.InstructionsSentAt), TokenHash: m.TokenHash,
		DeactivatedAt: fmtTime(m.DeactivatedAt), ExternalID: m.ExternalID, UserName: m.UserName, IdPData: m.IdPData,
		ProvisionedBy: m.ProvisionedBy, UpdatedAt: fmtTime(m.UpdatedAt), Version: m.Version,
	}
	if m.LastEmail != nil {
		r.LastEmail = &emailRecord{ID: m.LastEmail.ID, Kind: m.LastEmail.Kind, State: m.LastEmail.State, At: fmtTime(m.LastEmail.At), Reason: m.LastEmail.Reason}
	}
	return r
}

// setIndexKeys derives every index key, and the attributes the list's
// rows show that are derived (the day of last activity, the email
// problem), from the attributes, so no write can leave an index
// disagreeing with the item. Days are counted in zone.
func (r *memberRecord) setIndexKeys(retention time.Duration, zone *time.Location, dueShards int) {
	m := r.domain()
	r.DuePK, r.DueSK = dueKeys(users.NextChange(m, retention, zone), r.PK, r.SK, dueShards)
	r.FacetPK = facetPK(r.TeamID, users.Facet{Status: users.Status(r.Status), LastCall: users.LastCall(r.LastCall), Role: users.Role(r.Role)})
	r.EmailSK = r.Email
	r.LastActiveOn = users.DayOf(m.LastActiveAt, zone)
	r.ActiveSK = dayKey(r.LastActiveOn, r.Email)
	r.InvitedSK = timeKey(parseTime(r.InvitedAt), r.MemberID)
	r.DomainSK = domainSK(r.Email)
	r.EmailProblem = m.EmailProblem()
}

// keepDue keeps before's place in the work queue when it is still ahead
// of now and no later than the place just derived: the queue is lazy.
// Activity only ever moves a member's next change later, so an app
// reporting every day would otherwise move the member's ByDue entry (a
// delete and a put in the index) every day; instead the entry stays, and
// when it comes due the nightly job reads the member, finds what has
// changed, and queues it again at its next change (Store.AgeMember). A
// change that comes sooner (an earlier bucket step, a new invitation
// expiry) moves it at once, and one that takes the member out of the queue
// takes it out.
func (r *memberRecord) keepDue(before memberRecord, now time.Time) {
	if r.DueSK == "" || before.DueSK == "" {
		return
	}
	prev, next := dueInstant(before.DueSK), dueInstant(r.DueSK)
	if prev.After(now) && !prev.After(next) {
		r.DuePK, r.DueSK = before.DuePK, before.DueSK
	}
}

func (r memberRecord) domain() users.Member {
	m := users.Member{
		ID: r.MemberID, TeamID: r.TeamID, Email: r.Email, Role: users.Role(r.Role), IsOwner: r.IsOwner,
		Status: users.Status(r.Status), LastCall: users.LastCall(r.LastCall), LastActiveAt: parseTime(r.LastActiveAt), LastActiveOn: r.LastActiveOn,
		InvitedAt: parseTime(r.InvitedAt), InvitedBy: r.InvitedBy, InvitationSentAt: parseTime(r.InvitationSentAt),
		InvitationExpiresAt: parseTime(r.InvitationExpiresAt), InvitationExpired: r.InvitationExpired,
		AcceptedAt: parseTime(r.AcceptedAt), FirstSignInAt: parseTime(r.FirstSignInAt), LastSignInAt: parseTime(r.LastSignInAt),
		InstructionsSentAt: parseTime(r.InstructionsSentAt), TokenHash: r.TokenHash,
		DeactivatedAt: parseTime(r.DeactivatedAt), ExternalID: r.ExternalID, UserName: r.UserName, IdPData: r.IdPData,
		ProvisionedBy: r.ProvisionedBy, UpdatedAt: parseTime(r.UpdatedAt), Version: r.Version,
	}
	if r.LastEmail != nil {
		m.LastEmail = &users.EmailState{ID: r.LastEmail.ID, Kind: r.LastEmail.Kind, State: r.LastEmail.State, At: parseTime(r.LastEmail.At), Reason: r.LastEmail.Reason}
	} else if r.EmailProblem != "" {
		// A row read from a list index, which projects the flag, not the email.
		m.LastEmail = &users.EmailState{State: r.EmailProblem}
	}
	return m
}

type membershipRecord struct {
	PK       string `dynamodbav:"PK"`
	SK       string `dynamodbav:"SK"`
	Type     string `dynamodbav:"type"`
	TeamID   string `dynamodbav:"teamId"`
	MemberID string `dynamodbav:"memberId"`
	Role     string `dynamodbav:"role"`
	IsOwner  bool   `dynamodbav:"isOwner"`
	Status   string `dynamodbav:"status"`
}

func newMembershipRecord(m users.Member) membershipRecord {
	return membershipRecord{
		PK: userPK(m.Email), SK: membershipSK(m.TeamID), Type: "membership", TeamID: m.TeamID,
		MemberID: m.ID, Role: string(m.Role), IsOwner: m.IsOwner, Status: string(m.Status),
	}
}

func (r membershipRecord) domain() users.Membership {
	return users.Membership{TeamID: r.TeamID, MemberID: r.MemberID, Role: users.Role(r.Role), IsOwner: r.IsOwner, Status: users.Status(r.Status)}
}
