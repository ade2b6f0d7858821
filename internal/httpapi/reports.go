package httpapi

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/teamusers/usersapi/internal/report"
	"github.com/teamusers/usersapi/internal/selection"
	"github.com/teamusers/usersapi/internal/users"
)

// csvSelection matches an uploaded CSV of emails against the team.
func csvSelection(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || (mt != "text/csv" && mt != "text/plain" && mt != "application/csv") {
			return users.Errorf(users.KindUnsupported, "unsupported_media_type", "Send the file as text/csv.")
		}
		body := http.MaxBytesReader(w, r.Body, selection.MaxBytes+1)
		res, err := selection.Select(r.Context(), body, func(ctx context.Context, emails []string) (map[string]string, error) {
			return d.Reports.MemberIDsByEmail(ctx, a.Team.ID, emails)
		})
		var tooBig *http.MaxBytesError
		switch {
		case errors.Is(err, selection.ErrTooLarge), errors.As(err, &tooBig):
			return users.Errorf(users.KindTooLarge, "file_too_large", "The file is over 5 MiB; split it and upload the parts.")
		case errors.Is(err, selection.ErrTooManyRows):
			return users.Errorf(users.KindTooLarge, "too_many_rows", "The file has more than %d rows; split it and upload the parts.", selection.MaxRows)
		case err != nil:
			return err
		}
		writeJSON(w, http.StatusOK, res)
		return nil
	})
}

type reportRequest struct {
	MemberIDs []string `json:"memberIds"`
	From      string   `json:"from"`
	To        string   `json:"to"`
}

func (d Deps) readReportRequest(w http.ResponseWriter, r *http.Request) (reportRequest, report.Period, error) {
	var body reportRequest
	if err := decodeJSON(w, r, &body); err != nil {
		return body, report.Period{}, err
	}
	if len(body.MemberIDs) == 0 || len(body.MemberIDs) > users.MaxBulkMembers {
		return body, report.Period{}, users.Errorf(users.KindInvalid, "invalid_member_ids", "memberIds must list 1 to %d members.", users.MaxBulkMembers)
	}
	seen := map[string]bool{}
	for _, id := range body.MemberIDs {
		if !validID(id) || seen[id] {
			return body, report.Period{}, users.Errorf(users.KindInvalid, "invalid_member_ids", "memberIds must be distinct member ids; %q is not.", id)
		}
		seen[id] = true
	}
	p, err := report.ParsePeriod(body.From, body.To, d.Now())
	return body, p, err
}

// usageReport is the "Download CSV" button.
func usageReport(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		body, p, err := d.readReportRequest(w, r)
		if err != nil {
			return err
		}
		rows, err := report.Build(r.Context(), d.Reports, a.Team.ID, body.MemberIDs, p)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+report.FileName(a.Team.ID, p)+`"`)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(report.CSV(rows))
		return nil
	})
}

// emailUsageReport is the "Send a usage email" button: the report goes to
// the calling admin through the outbox.
func emailUsageReport(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		body, p, err := d.readReportRequest(w, r)
		if err != nil {
			return err
		}
		ms, err := d.Reports.GetMembers(r.Context(), a.Team.ID, body.MemberIDs)
		if err != nil {
			return err
		}
		if len(ms) != len(body.MemberIDs) {
			return users.Errorf(users.KindInvalid, "unknown_members", "Some ids are not members of the team.")
		}
		e := users.Email{ID: users.NewID("e"), Kind: users.EmailUsageReport, To: a.Caller.Email, TeamID: a.Team.ID,
			Data: map[string]string{"teamName": a.Team.Name, "memberIds": strings.Join(body.MemberIDs, ","), "from": report.Day(p.From), "to": report.Day(p.To)}}
		if err := d.Reports.QueueEmail(r.Context(), e); err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"emailId": e.ID, "recipient": e.To, "from": report.Day(p.From), "to": report.Day(p.To)})
		return nil
	})
}
