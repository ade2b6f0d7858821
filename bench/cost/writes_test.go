package cost

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/teamusers/usersapi/bench/benchkit"
	"github.com/teamusers/usersapi/bench/meter"
	"github.com/teamusers/usersapi/internal/archive"
	"github.com/teamusers/usersapi/internal/delivery"
	"github.com/teamusers/usersapi/internal/dynamo"
	"github.com/teamusers/usersapi/internal/keyring"
	"github.com/teamusers/usersapi/internal/local"
	nightlyjob "github.com/teamusers/usersapi/internal/nightly"
	"github.com/teamusers/usersapi/internal/users"
)

// A write, as the meter saw it: the table's units (transactions doubled),
// every index entry put, deleted or rewritten, and what the request read.
func reportWrite(b *testing.B, u meter.Units, per float64) {
	b.ReportMetric((u.WriteUnits+u.IndexUnits)/per, "wru/op")
	b.ReportMetric(u.WriteUnits/per, "table-wru/op")
	b.ReportMetric(u.IndexUnits/per, "index-wru/op")
	b.ReportMetric(float64(u.ItemsWritten)/per, "items-written/op")
	b.ReportMetric(float64(u.IndexWrites)/per, "index-writes/op")
	b.ReportMetric(float64(u.Transactions)/per, "transactions/op")
	b.ReportMetric(u.ReadUnits/per, "rru/op")
	for _, ix := range []string{"ByEmail", "ByLastActive", "ByInvitedAt", "ByDomain", "ByDue", "ByAuditTarget"} {
		b.ReportMetric(u.ByIndex[ix]/per, ix+"-wru/op")
	}
}

// scaled divides a measurement of several operations into one.
func scaled(u meter.Units, n int) meter.Units {
	f := float64(n)
	d := u
	d.ReadUnits /= f
	d.WriteUnits /= f
	d.IndexUnits /= f
	per := func(x int) int { return int(math.Round(float64(x) / f)) }
	d.ItemsRead = per(u.ItemsRead)
	d.ItemsWritten = per(u.ItemsWritten)
	d.IndexWrites = per(u.IndexWrites)
	d.Transactions = per(u.Transactions)
	d.ByIndex, d.ByTable = map[string]float64{}, map[string]float64{}
	for k, v := range u.ByIndex {
		d.ByIndex[k] = v / f
	}
	for k, v := range u.ByTable {
		d.ByTable[k] = v / f
	}
	return d
}

func token43() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// writes measures every write the profile makes, one request at a time,
// on a table of its own: each through the API (or the job) as in AWS.
func writes(b *testing.B) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	t := newTable(b, "cost-writes")
	defer t.drop()
	raw := dynamo.New(env.raw, t.name).WithArchive(t.name + "-archive").WithDueShards(env.stack.Config.DueShards)
	team, err := benchkit.NewTeam(raw, 1000, benchkit.Owner)
	if err != nil {
		b.Fatal(err)
	}
	base := "/v1/teams/" + team
	// Members who used the app yesterday (bucket "recently"): the daily case.
	daily := func(name string) users.Member {
		last := users.DayStart(now, -1, time.UTC).Add(time.Hour)
		return users.Member{ID: users.NewID("m"), TeamID: team, Email: name + "@acme.example", Role: users.RoleUser,
			Status: users.StatusActive, InvitedAt: now.Add(-100 * 24 * time.Hour), AcceptedAt: now.Add(-99 * 24 * time.Hour),
			FirstSignInAt: now.Add(-99 * 24 * time.Hour), LastSignInAt: last, LastActiveAt: last}
	}
	ms := []users.Member{daily("signer"), daily("caller"), daily("promoted"), daily("leaver"), daily("sleeper")}
	// Invitations that expire in 25 hours (the nightly job flags them).
	const expiring = 20
	for i := range expiring {
		ms = append(ms, users.Member{ID: users.NewID("m"), TeamID: team, Email: fmt.Sprintf("late%d@acme.example", i), Role: users.RoleUser,
			Status: users.StatusInvitationSent, InvitedAt: now.Add(-7 * 24 * time.Hour), InvitationSentAt: now.Add(-7 * 24 * time.Hour),
			InvitationExpiresAt: now.Add(25 * time.Hour)})
	}
	if err := raw.WithClock(func() time.Time { return now }).ImportMembers(ctx, team, ms); err != nil {
		b.Fatal(err)
	}
	signer, caller, promoted, leaver, sleeper := ms[0], ms[1], ms[2], ms[3], ms[4]
	run := func(name string, per int, f func()) {
		b.Run(name, func(b *testing.B) {
			var u meter.Units
			for b.Loop() {
				u = measure(b, f)
			}
			u = scaled(u, per)
			reportWrite(b, u, 1)
			recordOp(name, u)
		})
	}
	ok := func(status int, out []byte, want int) {
		if status != want {
			b.Fatalf("%d %s", status, out)
		}
	}
	key := func() map[string]string { return map[string]string{"Idempotency-Key": users.NewID("k")} }

	// Invitations: one address, and 24 (one transaction) per address.
	var invited string
	run("invite_1_address", 1, func() {
		s, out := t.call(b, "POST", base+"/invitations", benchkit.Owner, map[string]any{"emails": []string{"new1@acme.example"}}, key())
		ok(s, out, 200)
		var r struct {
			Results []struct{ MemberID string } `json:"results"`
		}
		_ = json.Unmarshal(out, &r)
		invited = r.Results[0].MemberID
	})
	run("invite_per_address_of_24", 24, func() {
		emails := make([]string, 24)
		for i := range emails {
			emails[i] = fmt.Sprintf("batch%d@acme.example", i)
		}
		s, out := t.call(b, "POST", base+"/invitations", benchkit.Owner, map[string]any{"emails": emails}, key())
		ok(s, out, 200)
	})
	// The invitation email, delivered by the outbox deliverer.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	deliverer := delivery.NewDeliverer(t.store, t.store, t.store.SendSlots("ses", env.stack.MailSettings().SendRate), delivery.NewSESClient(local.AWSConfig(), env.stack.Config.SESEndpoint), env.stack.MailSettings(), keyring.New(env.stack.Config.Secret), quiet, nil)
	run("deliver_email", 1, func() {
		m, err := raw.GetMember(ctx, team, invited)
		if err != nil || m.LastEmail == nil {
			b.Fatalf("%+v %v", m, err)
		}
		if err := deliverer.Deliver(ctx, m.LastEmail.ID); err != nil {
			b.Fatal(err)
		}
	})
	// Accepting: an invitation whose token we know.
	tok := token43()
	joiner := users.Member{ID: users.NewID("m"), TeamID: team, Email: "joiner@acme.example", Role: users.RoleUser, Status: users.StatusInvitationSent,
		InvitedAt: now, InvitationSentAt: now, InvitationExpiresAt: now.Add(7 * 24 * time.Hour), TokenHash: users.HashToken(tok)}
	if res, err := raw.AddMembers(ctx, team, []users.NewMember{users.Admit(joiner, nil)}); err != nil || res[0] != nil {
		b.Fatal(err, res)
	}
	run("accept", 1, func() {
		s, out := t.call(b, "POST", "/v1/invitations/accept", "", map[string]string{"token": tok}, key())
		ok(s, out, 200)
	})
	// The app: a first sign-in (pending app login → active), a daily sign-in
	// (the member's first activity of the day: the member is written), a
	// sign-in again later that day, a call that is a member's first
	// activity of the day, and a call later that day (only the day's usage
	// is written: the profile's calls).
	run("first_sign_in", 1, func() {
		s, out := t.call(b, "POST", "/v1/me/sign-ins", joiner.Email, map[string]any{"appVersion": "3.1.0", "device": "mac"}, nil)
		ok(s, out, 200)
	})
	run("sign_in_daily", 1, func() {
		s, out := t.call(b, "POST", "/v1/me/sign-ins", signer.Email, map[string]any{"appVersion": "3.1.0", "device": "mac"}, nil)
		ok(s, out, 200)
	})
	run("sign_in_later_that_day", 1, func() {
		s, out := t.call(b, "POST", "/v1/me/sign-ins", signer.Email, map[string]any{"appVersion": "3.1.0", "device": "mac"}, nil)
		ok(s, out, 200)
	})
	call := func(id string) map[string]any {
		return map[string]any{"callId": id, "startedAt": now.Add(-10 * time.Minute).Format(time.RFC3339), "durationSeconds": 300}
	}
	run("call_daily", 1, func() {
		s, out := t.call(b, "POST", "/v1/me/calls", caller.Email, call("c1"), nil)
		ok(s, out, 200)
	})
	run("call_later_that_day", 1, func() {
		s, out := t.call(b, "POST", "/v1/me/calls", caller.Email, call("c2"), nil)
		ok(s, out, 200)
	})
	// The admin's changes.
	run("role_change", 1, func() {
		s, out := t.call(b, "PATCH", base+"/members/"+promoted.ID, benchkit.Owner, map[string]string{"role": "admin"}, nil)
		ok(s, out, 200)
	})
	run("removal", 1, func() {
		s, out := t.call(b, "DELETE", base+"/members/"+leaver.ID, benchkit.Owner, nil, nil)
		if s != 200 && s != 204 {
			b.Fatalf("%d %s", s, out)
		}
	})

	run("deactivate", 1, func() {
		s, out := t.call(b, "POST", base+"/members/"+sleeper.ID+"/deactivate", benchkit.Owner, nil, key())
		ok(s, out, 200)
	})
	run("reactivate", 1, func() {
		s, out := t.call(b, "POST", base+"/members/"+sleeper.ID+"/reactivate", benchkit.Owner, nil, key())
		ok(s, out, 200)
	})
	// An identity provider (SCIM): it creates a user, then turns it off.
	s, out := t.call(b, "POST", base+"/scim-tokens", benchkit.Owner, map[string]string{"name": "bench"}, key())
	var scimToken struct{ Token string }
	if err := json.Unmarshal(out, &scimToken); err != nil || s != 201 {
		b.Fatalf("SCIM token: %d %s", s, out)
	}
	scim := map[string]string{"Authorization": "Bearer " + scimToken.Token, "Content-Type": "application/scim+json"}
	var provisioned string
	run("scim_provision", 1, func() {
		s, out := t.call(b, "POST", "/scim/v2/Users", "", map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "idp1@acme.example", "externalId": "00u1bench",
			"name": map[string]string{"givenName": "Ida", "familyName": "Provisioned"}, "active": true,
			"emails": []map[string]any{{"value": "idp1@acme.example", "type": "work", "primary": true}},
		}, scim)
		ok(s, out, 201)
		var u struct{ ID string }
		_ = json.Unmarshal(out, &u)
		provisioned = u.ID
	})
	run("scim_deactivate", 1, func() {
		s, out := t.call(b, "PATCH", "/scim/v2/Users/"+provisioned, "", map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []map[string]any{{"op": "replace", "value": map[string]any{"active": false}}},
		}, scim)
		ok(s, out, 200)
	})

	// The nightly job: 20 members leave "recently" tonight (active three
	// days ago: their queue entries come due at the next midnight).
	const steps = 20
	var steppers []users.Member
	for i := range steps {
		m := daily(fmt.Sprintf("stepper%d", i))
		m.LastActiveAt = users.DayStart(now, -users.RecentlyDays, time.UTC).Add(time.Hour)
		m.LastSignInAt = m.LastActiveAt
		steppers = append(steppers, m)
	}
	if err := raw.WithClock(func() time.Time { return now }).ImportMembers(ctx, team, steppers); err != nil {
		b.Fatal(err)
	}
	nightly := func(name string, at time.Time, want func(changed, retired int64) bool) {
		run(name, steps, func() {
			res, err := nightlyjob.New(t.store, env.stack.Config.Retention, at).Run(ctx)
			if err != nil || !res.Done || !want(res.MembersChanged, res.SignInsRetired) {
				b.Fatalf("%+v %v", res, err)
			}
		})
	}
	nightly("nightly_bucket_step", now.Add(24*time.Hour), func(c, r int64) bool { return c == steps && r == 0 })
	// An hour after the invitations expire: the members active yesterday
	// are then two or three calendar days back, still "recently" whatever
	// the hour the bench runs (at now+50h, a run after 22:00 moved them too).
	nightly("nightly_expire", now.Add(26*time.Hour), func(c, r int64) bool { return c == expiring && r == 0 })

	// Archiving: a sign-in past its retention is deleted by DynamoDB's TTL
	// (free) and the stream brings the deletion to the archive function,
	// which writes it to the archive table. 20 such records, as the
	// stream hands them on.
	expired := events.DynamoDBEvent{}
	for i := range steps {
		at := now.Add(-users.DefaultRetention - time.Duration(i+1)*time.Minute)
		pk, sk := dynamo.SignInKey(team, steppers[i].ID, at)
		str := func(v string) events.DynamoDBAttributeValue { return events.NewStringAttribute(v) }
		expired.Records = append(expired.Records, events.DynamoDBEventRecord{
			EventName:    "REMOVE",
			UserIdentity: &events.DynamoDBUserIdentity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"},
			Change: events.DynamoDBStreamRecord{SequenceNumber: fmt.Sprint(i + 1),
				Keys: map[string]events.DynamoDBAttributeValue{"PK": str(pk), "SK": str(sk)},
				OldImage: map[string]events.DynamoDBAttributeValue{"PK": str(pk), "SK": str(sk), "type": str("signin"),
					"teamId": str(team), "memberId": str(steppers[i].ID), "at": str(sk), "appVersion": str("3.1.0"), "device": str("mac")}},
		})
	}
	archiver := archive.Archiver{Store: t.store, Log: quiet}
	run("archive_signin", steps, func() {
		resp, err := archiver.HandleStream(ctx, expired)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			b.Fatalf("%+v %v", resp, err)
		}
	})
	// The handler's rate in one batch, for the capacity model: a batch of
	// 100 through the unmetered store, as Lambda hands one over.
	big := events.DynamoDBEvent{}
	for i := range 100 {
		r := expired.Records[i%steps]
		r.Change.Keys = maps.Clone(r.Change.Keys)
		r.Change.OldImage = maps.Clone(r.Change.OldImage)
		sk := events.NewStringAttribute(now.Add(-users.DefaultRetention - time.Duration(i+100)*time.Second).UTC().Format("2006-01-02T15:04:05.000Z"))
		r.Change.Keys["SK"], r.Change.OldImage["SK"], r.Change.OldImage["at"] = sk, sk, sk
		big.Records = append(big.Records, r)
	}
	began := time.Now()
	if resp, err := (archive.Archiver{Store: raw.WithArchive(t.name + "-archive"), Log: quiet}).HandleStream(ctx, big); err != nil || len(resp.BatchItemFailures) != 0 {
		b.Fatalf("%+v %v", resp, err)
	}
	results.Lock()
	results.archiveRate = 100 / time.Since(began).Seconds()
	results.Unlock()

	// What the profile stores, item by item, with its index entries.
	recordSize := func(kind, pk, sk, tableName string) {
		out, err := env.raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tableName), Key: map[string]types.AttributeValue{"PK": str(pk), "SK": str(sk)}})
		if err != nil || out.Item == nil {
			b.Fatalf("%s %s %s: %v", kind, pk, sk, err)
		}
		results.Lock()
		results.sizes[kind] = itemSize{Bytes: meter.ItemSize(out.Item), Index: env.meter.Entries(tableName, out.Item)}
		results.Unlock()
	}
	for _, id := range []string{"c3", "c4", "c5"} { // the day's five calls
		s, out := t.call(b, "POST", "/v1/me/calls", caller.Email, call(id), nil)
		ok(s, out, 200)
	}
	recordSize("team", "TEAM#"+team, "TEAM", t.name)
	recordSize("member", "TEAM#"+team, "MEMBER#"+signer.ID, t.name)
	recordSize("membership", "USER#"+signer.Email, "TEAM#"+team, t.name)
	recordSize("usage_day", "USAGE#"+team+"#"+caller.ID, now.Format("2006-01-02"), t.name)
	signIns, _, err := raw.SignIns(ctx, team, signer.ID)
	if err != nil || len(signIns) == 0 {
		b.Fatal(err)
	}
	entries, _, err := raw.AuditLog(ctx, team, users.AuditQuery{TargetID: promoted.ID, Limit: 1})
	if err != nil || len(entries) == 0 {
		b.Fatal("no audit entry of the role change: ", err)
	}
	recordSize("audit_entry", "AUDIT#"+team, entries[0].At.UTC().Format("2006-01-02T15:04:05.000Z")+"#"+entries[0].ID, t.name)
	recordSize("sign_in", "SIGNIN#"+team+"#"+signer.ID, signIns[0].At.UTC().Format("2006-01-02T15:04:05.000Z"), t.name)
	first := expired.Records[0].Change.Keys
	recordSize("archived_sign_in", first["PK"].String(), first["SK"].String(), t.name+"-archive")
}
