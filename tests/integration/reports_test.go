package integration

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/teamusers/usersapi/internal/local"
)

func postRaw(t *testing.T, path, tok, ct string, body []byte) response {
	t.Helper()
	return send(t, "POST", path, tok, map[string]string{"Content-Type": ct}, body)
}

func TestCSVSelectionFeedsTheBulkEndpoint(t *testing.T) {
	team := newTeam(t, "pro", 10, "owner@csv.example")
	owner := token(t, "owner@csv.example", local.TokenOptions{})
	res := invite(t, team, owner, "ann@csv.example", "bob@csv.example", "cy@csv.example")
	file := "\ufeffName;E-mail address\r\n\"Ann; the first\";ANN@csv.example\r\n\r\nBob;bob@csv.example\r\nZed;zed@csv.example\r\nBad;not-an-email\r\nAgain;ann@csv.example\r\n"
	r := postRaw(t, "/v1/teams/"+team+"/members/csv-selection", owner, "text/csv", []byte(file))
	want := fmt.Sprintf(`{"matched":[{"row":2,"email":"ann@csv.example","memberId":"%s"},{"row":4,"email":"bob@csv.example","memberId":"%s"}],"notFound":[{"row":5,"email":"zed@csv.example"}],"invalid":[{"row":6,"value":"not-an-email","reason":"not an email address"},{"row":7,"value":"ann@csv.example","reason":"duplicate of row 2"}]}`,
		res.Results[0].MemberID, res.Results[1].MemberID)
	if r.Status != 200 || strings.TrimSpace(string(r.Body)) != want {
		t.Fatalf("selection: %d\n got  %s\n want %s", r.Status, r.Body, want)
	}
	// The member ids go straight into a bulk action.
	r = call(t, "POST", "/v1/teams/"+team+"/members/bulk", owner, map[string]any{"action": "remove", "memberIds": []string{res.Results[0].MemberID, res.Results[1].MemberID}})
	if r.Status != 200 || strings.Count(string(r.Body), `"result":"done"`) != 2 {
		t.Fatalf("bulk remove from the selection: %s", r.Body)
	}

	if c := postRaw(t, "/v1/teams/"+team+"/members/csv-selection", owner, "application/json", []byte(`{}`)).Problem(t, 415); c != "unsupported_media_type" {
		t.Fatalf("json body: %s", c)
	}
	rows := bytes.Repeat([]byte("a@csv.example\n"), 50_001)
	if c := postRaw(t, "/v1/teams/"+team+"/members/csv-selection", owner, "text/csv", rows).Problem(t, 413); c != "too_many_rows" {
		t.Fatalf("50,001 rows: %s", c)
	}
	big := append([]byte("email\n"), bytes.Repeat([]byte("x"), 5<<20)...)
	if c := postRaw(t, "/v1/teams/"+team+"/members/csv-selection", owner, "text/csv", big).Problem(t, 413); c != "file_too_large" {
		t.Fatalf("over 5 MiB: %s", c)
	}
}

func TestUsageReportDownloadAndEmail(t *testing.T) {
	team := newTeam(t, "pro", 10, "owner@usage.example")
	owner := token(t, "owner@usage.example", local.TokenOptions{})
	res := invite(t, team, owner, "=1+2@usage.example", "quiet@usage.example")
	for _, r := range res.Results {
		addr := r.Email
		tok := tokenFrom(t, waitForMail(t, addr, 1)[0])
		call(t, "POST", "/v1/invitations/accept", "", map[string]string{"token": tok})
	}
	caller := token(t, "=1+2@usage.example", local.TokenOptions{})
	now := time.Now().UTC()
	for _, c := range []struct {
		ago  time.Duration
		secs int
	}{{time.Hour, 90}, {48 * time.Hour, 30}, {40 * 24 * time.Hour, 600}} {
		r := call(t, "POST", "/v1/me/calls", caller, map[string]any{"startedAt": now.Add(-c.ago).Format(time.RFC3339), "durationSeconds": c.secs})
		if r.Status != 200 {
			t.Fatalf("call: %d %s", r.Status, r.Body)
		}
	}
	ids := []string{res.Results[0].MemberID, res.Results[1].MemberID}
	r := call(t, "POST", "/v1/teams/"+team+"/usage-report", owner, map[string]any{"memberIds": ids})
	today, start := now.Format("2006-01-02"), now.AddDate(0, 0, -29).Format("2006-01-02")
	if r.Status != 200 || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" || r.Header.Get("X-Left-Out") != "0" ||
		r.Header.Get("Content-Disposition") != `attachment; filename="usage-usage.example-team-`+start+`-to-`+today+`.csv"` {
		t.Fatalf("download: %d %v %s", r.Status, r.Header, r.Body)
	}
	recs := reportRows(t, r.Body)
	if len(recs) != 3 || strings.Join(recs[0], "|") != "Email|Role|Status|Last call|Last active|Calls|Talk minutes" {
		t.Fatalf("csv: %q", r.Body)
	}
	// Default period: the last 30 days, so the 40-day-old call is out. The
	// caller's last activity is its latest call's end, to the minute, UTC.
	lastActive := now.Add(-time.Hour).Add(90 * time.Second).Format("2006-01-02 15:04")
	if strings.Join(recs[1], "|") != "'=1+2@usage.example|User|Active|Recently|"+lastActive+"|2|2.0" {
		t.Fatalf("row for the caller: %v", recs[1])
	}
	if strings.Join(recs[2], "|") != "quiet@usage.example|User|Pending app login|Not active||0|0.0" {
		t.Fatalf("row for the quiet member: %v", recs[2])
	}
	from := now.AddDate(0, 0, -60).Format("2006-01-02")
	r = call(t, "POST", "/v1/teams/"+team+"/usage-report", owner, map[string]any{"memberIds": ids[:1], "from": from})
	recs = reportRows(t, r.Body)
	if recs[1][5] != "3" || recs[1][6] != "12.0" {
		t.Fatalf("60-day report: %v", recs[1])
	}

	for name, body := range map[string]any{
		"unknown member": map[string]any{"memberIds": []string{"m_nobody"}},
		"too long":       map[string]any{"memberIds": ids, "from": "2020-01-01"},
		"reversed":       map[string]any{"memberIds": ids, "from": "2026-11-20", "to": "2026-11-01"},
		"no members":     map[string]any{"memberIds": []string{}},
		"unknown field":  map[string]any{"memberIds": ids, "format": "xlsx"},
	} {
		if r := call(t, "POST", "/v1/teams/"+team+"/usage-report", owner, body); r.Status != 400 {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}

	download := call(t, "POST", "/v1/teams/"+team+"/usage-report", owner, map[string]any{"memberIds": ids})
	r = call(t, "POST", "/v1/teams/"+team+"/usage-report/email", owner, map[string]any{"memberIds": ids})
	if r.Status != 202 {
		t.Fatalf("email: %d %s", r.Status, r.Body)
	}
	var got *storedMail
	deadline := time.Now().Add(30 * time.Second)
	for got == nil && time.Now().Before(deadline) {
		got = findStored(t, "owner@usage.example", "Usage report")
		time.Sleep(100 * time.Millisecond)
	}
	if got == nil {
		t.Fatal("the usage report email did not arrive")
	}
	if !strings.Contains(got.Body.HTML, ">Total</td>") || !strings.Contains(got.Body.HTML, ">=1+2@usage.example</span>") || !strings.Contains(got.Body.Text, "Total: 2 calls") ||
		!strings.Contains(got.Subject, "Usage report for usage.example team") || !strings.Contains(got.Body.Text, " to ") {
		t.Fatalf("report body: %+v", got.Body)
	}
	if strings.Contains(got.Body.Text, "removed from the team") {
		t.Fatalf("a report that left nobody out says it did: %s", got.Body.Text)
	}
	if len(got.Attachments) != 1 || got.Attachments[0].ContentType != "text/csv" || got.Attachments[0].Filename != "usage-usage.example-team-"+start+"-to-"+today+".csv" {
		t.Fatalf("attachments: %+v", got.Attachments)
	}
	att, err := base64.StdEncoding.DecodeString(got.Attachments[0].Content)
	if err != nil || !bytes.Equal(att, download.Body) {
		t.Fatalf("the attached CSV differs from the download:\n%q\n%q", att, download.Body)
	}
}

// reportRows reads a usage report as a spreadsheet would: it must start
// with a UTF-8 byte-order mark and use CRLF line ends.
func reportRows(t *testing.T, body []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(body, []byte("\xef\xbb\xbf")) {
		t.Fatalf("no byte-order mark: %q", body)
	}
	if bytes.Count(body, []byte("\n")) != bytes.Count(body, []byte("\r\n")) {
		t.Fatalf("not CRLF: %q", body)
	}
	recs, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v %q", err, body)
	}
	return recs
}

// A member removed after being selected does not block the report: the
// download covers the others and says who was left out, and so does the
// email.
func TestUsageReportLeavesOutRemovedMembers(t *testing.T) {
	team := newTeam(t, "pro", 10, "owner@gone.example")
	owner := token(t, "owner@gone.example", local.TokenOptions{})
	res := invite(t, team, owner, "stays@gone.example", "leaves@gone.example", "also-leaves@gone.example")
	ids := []string{res.Results[0].MemberID, res.Results[1].MemberID, res.Results[2].MemberID}
	for _, id := range ids[1:] {
		if r := call(t, "DELETE", "/v1/teams/"+team+"/members/"+id, owner, nil); r.Status != 204 {
			t.Fatalf("remove: %d %s", r.Status, r.Body)
		}
	}
	r := call(t, "POST", "/v1/teams/"+team+"/usage-report", owner, map[string]any{"memberIds": ids})
	if r.Status != 200 || r.Header.Get("X-Left-Out") != "2" || r.Header.Get("X-Left-Out-Ids") != ids[1]+","+ids[2] {
		t.Fatalf("download: %d %v %s", r.Status, r.Header, r.Body)
	}
	if recs := reportRows(t, r.Body); len(recs) != 2 || recs[1][0] != "stays@gone.example" || recs[1][2] != "Invitation sent" || recs[1][3] != "Pending" {
		t.Fatalf("rows: %v", recs)
	}
	// The portal's own origin may read the headers (CORS exposes them).
	r = send(t, "POST", "/v1/teams/"+team+"/usage-report", owner, map[string]string{"Content-Type": "application/json", "Origin": local.PortalOrigin}, []byte(`{"memberIds":["`+ids[0]+`"]}`))
	if exposed := strings.ToLower(r.Header.Get("Access-Control-Expose-Headers")); !strings.Contains(exposed, "x-left-out-ids") || !strings.Contains(exposed, "content-disposition") {
		t.Fatalf("exposed headers: %q", exposed)
	}
	// Only removed members: nothing to report on, as for ids that never were members.
	if c := call(t, "POST", "/v1/teams/"+team+"/usage-report", owner, map[string]any{"memberIds": ids[1:]}).Problem(t, 400); c != "unknown_members" {
		t.Fatalf("only removed members: %s", c)
	}

	r = call(t, "POST", "/v1/teams/"+team+"/usage-report/email", owner, map[string]any{"memberIds": ids})
	var queued struct{ LeftOut []string }
	r.JSON(t, &queued)
	if r.Status != 202 || len(queued.LeftOut) != 2 {
		t.Fatalf("email: %d %s", r.Status, r.Body)
	}
	var got *storedMail
	for deadline := time.Now().Add(30 * time.Second); got == nil && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		got = findStored(t, "owner@gone.example", "Usage report")
	}
	if got == nil {
		t.Fatal("the usage report email did not arrive")
	}
	const note = "2 selected members were removed from the team since and are not in this report."
	if !strings.Contains(got.Body.Text, note) || !strings.Contains(got.Body.HTML, note) || !strings.Contains(got.Body.HTML, "stays@gone.example") {
		t.Fatalf("email body: %+v", got.Body)
	}
}

type storedMail struct {
	Subject     string
	Body        struct{ Text, HTML string }
	Destination struct{ To []string }
	Attachments []struct {
		ContentType string `json:"contentType"`
		Filename    string `json:"filename"`
		Content     string `json:"content"`
	}
}

// findStored finds a message by recipient and subject prefix in the SES server's store.
func findStored(t *testing.T, to, subject string) *storedMail {
	resp, err := http.Get(stack.Services.SESEndpoint + "/store")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var store struct{ Emails []storedMail }
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatal(err)
	}
	for i, m := range store.Emails {
		if len(m.Destination.To) == 1 && m.Destination.To[0] == to && strings.Contains(strings.ToLower(m.Subject), strings.ToLower(subject)) {
			return &store.Emails[i]
		}
	}
	return nil
}
