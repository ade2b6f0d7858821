package dynamo

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/teamusers/usersapi/internal/users"
)

// Every key format of the single table lives in this file.
//
//	item          PK                 SK                 indexes
//	team          TEAM#<teamId>      TEAM               -
//	member        TEAM#<teamId>      MEMBER#<memberId>  ByEmail, ByLastActive, ByInvitedAt (facetPK), ByDomain (PK)
//	membership    USER#<email>       TEAM#<teamId>      -
//
// The membership item is the "one email, one member per team" guard (it is
// put with attribute_not_exists in the same transaction as the member), the
// authorization record read on every team request, and the way the desktop
// app's calls find the caller's teams.
const (
	attrPK = "PK"
	attrSK = "SK"

	skTeam = "TEAM"

	indexByEmail      = "ByEmail"
	indexByLastActive = "ByLastActive"
	indexByInvitedAt  = "ByInvitedAt"
	indexByDomain     = "ByDomain"

	attrFacetPK   = "facetPK"
	attrEmailSK   = "emailSK"
	attrActiveSK  = "activeSK"
	attrInvitedSK = "invitedSK"
	attrDomainSK  = "domainSK"

	attrEmailProblem = "emailProblem"

	// attrTTL is when DynamoDB deletes an item (epoch seconds): the table's
	// TimeToLiveSpecification names it.
	attrTTL = "ttl"

	indexByDue = "ByDue"
	attrDuePK  = "duePK"
	attrDueSK  = "dueSK"
)

// DefaultDueShards is how many index partitions the nightly work queue is
// spread over when the stack does not say (template parameter DueShards,
// DUE_SHARDS; Store.WithDueShards). Every write that moves an item's next
// change writes to its shard, so the count bounds the queue's write rate:
// the capacity model in docs/benchmarks.md (BenchmarkCapacity in
// bench/cost) chose it. The nightly run reads each shard once. With 16,
// at a million teams and a hundred million members, the busiest shard
// takes about 1,750 write units a second at its busiest minute, over a
// partition's 1,000; 64 keep it under half of that.
const DefaultDueShards = 64

// MaxDueShards bounds the shard count (DUE#00 … DUE#999).
const MaxDueShards = 1000

// dueKeys place an item in the ByDue work queue at the instant it next
// changes by time alone, in one of shards partitions by a hash of its key;
// a zero instant removes it from the queue. An item's shard follows the
// count in force when it is written: after a change of count, an item
// moves to its new shard on its next write (see Store.WithDueShards).
func dueKeys(at time.Time, pk, sk string, shards int) (string, string) {
	if at.IsZero() {
		return "", ""
	}
	return duePK(dueShard(pk, sk, shards)), fmtTime(at) + "#" + pk + "#" + sk
}

// dueShard is the shard of an item's key: a hash, so that the queue's
// writes spread evenly whatever the keys.
func dueShard(pk, sk string, shards int) int {
	h := fnv.New32a()
	h.Write([]byte(pk + "|" + sk))
	return int(h.Sum32() % uint32(max(shards, 1)))
}

// Keys as the capacity model needs them (bench/cost replays a day of
// activity through them): a member's and a sign-in's key, and the work
// queue's shard of a key.

// MemberKey is the table key of a member.
func MemberKey(teamID, memberID string) (pk, sk string) { return teamPK(teamID), memberSK(memberID) }

// SignInKey is the table key of a sign-in.
func SignInKey(teamID, memberID string, at time.Time) (pk, sk string) {
	return signInPK(teamID, memberID), fmtTime(at)
}

// DueShardOf is the work-queue shard an item of that key is written to.
func DueShardOf(pk, sk string, shards int) int { return dueShard(pk, sk, shards) }

// duePK is the partition key of one shard of the work queue.
func duePK(shard int) string { return fmt.Sprintf("DUE#%02d", shard) }

func teamPK(teamID string) string     { return "TEAM#" + teamID }
func memberSK(memberID string) string { return "MEMBER#" + memberID }
func userPK(email string) string      { return "USER#" + email }
func membershipSK(teamID string) string {
	return "TEAM#" + teamID
}

// facetPK puts each (status, bucket, role) combination of a team in its own
// index partition, so a filtered page reads only matching members.
func facetPK(teamID string, f users.Facet) string {
	return teamID + "#" + string(f.Status) + "#" + string(f.LastCall) + "#" + string(f.Role)
}

// facetAttr is the team item's attribute that counts the members of one
// (status, bucket, role) combination: "fc#active#recently#admin".
func facetAttr(f users.Facet) string {
	return "fc#" + string(f.Status) + "#" + string(f.LastCall) + "#" + string(f.Role)
}

func parseFacetAttr(name string) (users.Facet, bool) {
	parts := strings.Split(name, "#")
	if len(parts) != 4 || parts[0] != "fc" {
		return users.Facet{}, false
	}
	return users.Facet{Status: users.Status(parts[1]), LastCall: users.LastCall(parts[2]), Role: users.Role(parts[3])}, true
}

// keyTime is the fixed-width form of instants in sort keys and attributes:
// lexical order is time order.
const keyTime = "2006-01-02T15:04:05.000Z"

// neverKey sorts before every real instant.
const neverKey = "0000-00-00T00:00:00.000Z"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(keyTime)
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(keyTime, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func timeKey(t time.Time, memberID string) string {
	if t.IsZero() {
		return neverKey + "#" + memberID
	}
	return fmtTime(t) + "#" + memberID
}

func domainSK(email string) string { return users.DomainOf(email) + "#" + email }

// neverDay sorts before every real day.
const neverDay = "0000-00-00"

// dayKey is ByLastActive's sort key: the day of last activity (in the
// store's zone), then the address, so the list sorted by last activity is
// sorted by day, then by email, and the entry moves at most once a day.
func dayKey(day, email string) string {
	if day == "" {
		day = neverDay
	}
	return day + "#" + email
}

// dueInstant is the instant a ByDue sort key holds (zero if none).
func dueInstant(dueSK string) time.Time {
	at, _, _ := strings.Cut(dueSK, "#")
	return parseTime(at)
}

// Key-range sentinels. Stored keys never contain characters below '!'
// (addresses are validated), so " " is below every key and a key followed by
// " " is the smallest key above it; U+10FFFF is above every UTF-8 key.
const (
	minKey = " "
	maxKey = "\U0010FFFF"
)

// Items of the write side.
//
//	invitation token  INVITE#<sha256 of token>   INVITE                   the only copy of a token is its hash
//	outbox email      EMAIL#<emailId>            EMAIL                    delivered from the table's stream
//	usage             USAGE#<teamId>#<memberId>  <day>                    calls and seconds per member per day
//	sign-in           SIGNIN#<teamId>#<memberId> <time>                   one per app sign-in
//
// Usage and sign-ins get a partition per member, not the team's: every app
// of a 100,000-member team reports calls, and one key would be a hot
// partition.
//
//	idempotency       IDEM#<scope>#<key>         IDEM                     first answer to a POST, 24 h
//	team job          JOB#<jobId>                JOB                      a team-wide resend, run from the stream
//	billing account   BILLING#<accountId>        BILLING                  the team billing made for it
//	external id       EXTID#<teamId>#<externalId> EXTID                   the member an identity provider's id names (one per id per team)
//	user name         SCIMUSER#<teamId>#<userName, lower-case> SCIMUSER   the member an identity provider's user name names (likewise)
//	SCIM token        SCIMTOKEN#<teamId>         <tokenId>                a team's SCIM tokens: name and the secret's SHA-256, never the secret
//	SCIM page mark    SCIMPAGE#<teamId>          <startIndex, 10 digits>  where the team's page at that startIndex begins in ByDomain; an hour
func invitePK(hash string) string             { return "INVITE#" + hash }
func emailPK(id string) string                { return "EMAIL#" + id }
func usagePK(teamID, memberID string) string  { return "USAGE#" + teamID + "#" + memberID }
func signInPK(teamID, memberID string) string { return "SIGNIN#" + teamID + "#" + memberID }
func idemPK(scope, key string) string         { return "IDEM#" + scope + "#" + key }
func jobPK(id string) string                  { return "JOB#" + id }
func externalIDPK(teamID, externalID string) string {
	return "EXTID#" + teamID + "#" + externalID
}
func userNamePK(teamID, userName string) string { return "SCIMUSER#" + teamID + "#" + userName }
func scimTokenPK(teamID string) string          { return "SCIMTOKEN#" + teamID }
func scimPagePK(teamID string) string           { return "SCIMPAGE#" + teamID }
func scimPageSK(startIndex int) string          { return fmt.Sprintf("%010d", startIndex) }

// auditPK is a team's audit log, sorted by auditSK (time, then entry id);
// auditTargetPK is one member's, in the sparse ByAuditTarget index.
//
//	audit entry       AUDIT#<teamId>             <time>#<entryId>         kept AuditRetentionDays (TTL)
func auditPK(teamID string) string                 { return "AUDIT#" + teamID }
func auditSK(at time.Time, id string) string       { return fmtTime(at) + "#" + id }
func auditTargetPK(teamID, memberID string) string { return teamID + "#" + memberID }

const indexByAuditTarget = "ByAuditTarget"

// billingPK guards "one team per billing account" (billing's retries).
func billingPK(account string) string { return "BILLING#" + account }

// Counters shared by every instance of a function:
//
//	quota        QUOTA#<counter>     <window start, epoch s>  a per-team or per-address allowance for its window (quota.go)
//	send slots   RATE#<name>         <second, epoch s>        the account's SES send rate, paced across deliverers (sendrate.go)
func quotaPK(counter string) string { return "QUOTA#" + counter }
func ratePK(name string) string     { return "RATE#" + name }

// emailOfUserPK is the address a membership item's key names.
func emailOfUserPK(pk string) string { return strings.TrimPrefix(pk, "USER#") }

const (
	skInvite     = "INVITE"
	skEmail      = "EMAIL"
	skIdem       = "IDEM"
	skJob        = "JOB"
	skBilling    = "BILLING"
	skExternalID = "EXTID"
	skUserName   = "SCIMUSER"
)
