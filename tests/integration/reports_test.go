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

	if c := postRaw(t, "/v1/teams/"+team+"/members/csv-selection", owner, "application/json", []byte(`{}`)).problem(t, 415); c != "unsupported_media_type" {
		t.Fatalf("json body: %s", c)
	}
	rows := bytes.Repeat([]byte("a@csv.example\n"), 50_001)
	if c := postRaw(t, "/v1/teams/"+team+"/members/csv-selection", owner, "text/csv", rows).problem(t, 413); c != "too_many_rows" {
		t.Fatalf("50,001 rows: %s", c)
	}
	big := append([]byte("email\n"), bytes.Repeat([]byte("x"), 5<<20)...)
	if c := postRaw(t, "/v1/teams/"+team+"/members/csv-selection", owner, "text/csv", big).problem(t, 413); c != "file_too_large" {
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
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(r.Header.Get("Content-Disposition"), "usage-"+team+"-") {
		t.Fatalf("download: %d %v %s", r.Status, r.Header, r.Body)
	}
	recs, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("csv: %v %q", err, r.Body)
	}
	// Default period: the last 30 days, so the 40-day-old call is out.
	if recs[1][0] != "'=1+2@usage.example" || recs[1][2] != "active" || recs[1][5] != "2" || recs[1][6] != "2.0" {
		t.Fatalf("row for the caller: %v", recs[1])
	}
	if recs[2][0] != "quiet@usage.example" || recs[2][5] != "0" || recs[2][4] != "" {
		t.Fatalf("row for the quiet member: %v", recs[2])
	}
	from := now.AddDate(0, 0, -60).Format("2006-01-02")
	r = call(t, "POST", "/v1/teams/"+team+"/usage-report", owner, map[string]any{"memberIds": ids[:1], "from": from})
	recs, _ = csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
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
	if !strings.Contains(got.Body.HTML, "Total") || !strings.Contains(got.Body.HTML, "<td>=1+2@usage.example</td>") || !strings.Contains(got.Body.Text, "2 calls") {
		t.Fatalf("report body: %+v", got.Body)
	}
	if len(got.Attachments) != 1 || got.Attachments[0].ContentType != "text/csv" || !strings.HasPrefix(got.Attachments[0].Filename, "usage-"+team+"-") {
		t.Fatalf("attachments: %+v", got.Attachments)
	}
	att, err := base64.StdEncoding.DecodeString(got.Attachments[0].Content)
	if err != nil || !bytes.Equal(att, download.Body) {
		t.Fatalf("the attached CSV differs from the download:\n%q\n%q", att, download.Body)
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
		if len(m.Destination.To) == 1 && m.Destination.To[0] == to && strings.HasPrefix(m.Subject, subject) {
			return &store.Emails[i]
		}
	}
	return nil
}
