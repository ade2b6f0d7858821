package httpapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/teamusers/usersapi/internal/report"
	"github.com/teamusers/usersapi/internal/selection"
	"github.com/teamusers/usersapi/internal/users"
)

// maxUploadBody is the largest request body the CSV selection reads: the
// file's 5 MiB and room for a multipart envelope (boundaries, part headers,
// a few form fields). The 5 MiB limit itself is on the file.
const maxUploadBody = selection.MaxBytes + 64<<10

// csvTypes are the media types a selection file arrives with: what browsers
// give a .csv or .txt file (text/csv; application/vnd.ms-excel on Windows
// with Office installed; text/plain), tab-separated text, and what tools
// send when they do not know (application/octet-stream). The content decides
// anyway: it is sniffed.
var csvTypes = map[string]bool{
	"text/csv": true, "application/csv": true, "text/plain": true, "text/tab-separated-values": true,
	"application/vnd.ms-excel": true, "application/octet-stream": true,
}

// csvSelection matches an uploaded CSV of emails against the team. The file
// comes as the body, or as the one file of a multipart/form-data form (what
// a browser's <form> or FormData sends).
func csvSelection(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || (!csvTypes[mt] && mt != "multipart/form-data") {
			return users.Errorf(users.KindUnsupported, "unsupported_media_type", "Send the file as text/csv, or as the one file of a multipart/form-data form.")
		}
		lookup := func(ctx context.Context, emails []string) (map[string]string, error) {
			return d.Reports.MemberIDsByEmail(ctx, a.Team.ID, emails)
		}
		body := &uploadReader{r: http.MaxBytesReader(w, r.Body, maxUploadBody)}
		var res selection.Result
		if mt == "multipart/form-data" {
			res, err = selectFromForm(r.Context(), body, params["boundary"], lookup)
		} else {
			var o selection.Options
			if mt == "text/tab-separated-values" {
				o.Delimiter = '\t'
			}
			res, err = selection.SelectWith(r.Context(), body, o, lookup)
		}
		if err != nil {
			return selectionError(err)
		}
		writeJSON(w, http.StatusOK, res)
		return nil
	})
}

// selectFromForm reads a multipart/form-data body: exactly one file part
// (one with a filename, or else the field named "file"); other fields are
// ignored.
func selectFromForm(ctx context.Context, body io.Reader, boundary string, lookup selection.Lookup) (selection.Result, error) {
	if boundary == "" {
		return selection.Result{}, errInvalidForm("The multipart/form-data body has no boundary.")
	}
	mr := multipart.NewReader(body, boundary)
	var res selection.Result
	files := 0
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, formError(err)
		}
		if part.FileName() == "" && part.FormName() != "file" {
			continue // another field of the form
		}
		if files++; files > 1 {
			return res, errInvalidForm("Send one file at a time.")
		}
		o := selection.Options{}
		if ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); ct == "text/tab-separated-values" {
			o.Delimiter = '\t'
		}
		if res, err = selection.SelectWith(ctx, &uploadReader{r: part}, o, lookup); err != nil {
			return res, err
		}
	}
	if files == 0 {
		return res, errInvalidForm("The form has no file: send it as a part with a filename, or as the field \"file\".")
	}
	return res, nil
}

func errInvalidForm(msg string) error {
	return users.Errorf(users.KindInvalid, "invalid_multipart", "%s", msg)
}

// formError tells a body cut by the size limit from a malformed form.
func formError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return errInvalidForm("The multipart/form-data body could not be read.")
}

// uploadReader marks the errors of reading the upload itself (a body cut
// short, a malformed multipart part), so they are told from the store's.
type uploadReader struct{ r io.Reader }

type uploadError struct{ err error }

func (e uploadError) Error() string { return "read upload: " + e.err.Error() }
func (e uploadError) Unwrap() error { return e.err }

func (u *uploadReader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	if err != nil && err != io.EOF {
		err = uploadError{err}
	}
	return n, err
}

// selectionError turns what refuses a whole file into its problem.
func selectionError(err error) error {
	var tooBig *http.MaxBytesError
	var notText *selection.NotTextError
	var upload uploadError
	switch {
	case errors.Is(err, selection.ErrTooLarge), errors.As(err, &tooBig):
		return users.Errorf(users.KindTooLarge, "file_too_large", "The file is over 5 MiB; split it and upload the parts.")
	case errors.Is(err, selection.ErrTooManyRows):
		return users.Errorf(users.KindTooLarge, "too_many_rows", "The file has more than %d rows; split it and upload the parts.", selection.MaxRows)
	case errors.As(err, &notText):
		return users.Errorf(users.KindUnsupported, "not_csv", "This file is %s, not a CSV file. Save the list as CSV (File > Save As > CSV UTF-8) and upload that.", notText.What)
	case errors.Is(err, selection.ErrNoEmailColumn):
		return users.Errorf(users.KindInvalid, "no_email_column", "No column of the file holds email addresses. Put the addresses in a column headed \"Email\" and upload it again.")
	case errors.As(err, &upload):
		return users.Errorf(users.KindInvalid, "invalid_body", "The upload could not be read to its end.")
	}
	return err
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

// Headers of a usage report download that left selected members out
// because they were removed from the team since the selection.
const (
	HeaderLeftOut    = "X-Left-Out"     // how many
	HeaderLeftOutIDs = "X-Left-Out-Ids" // their ids, comma-separated, at most MaxLeftOutIDs
	MaxLeftOutIDs    = 100              // keeps the header well under the gateway's limits
)

// usageReport is the "Download CSV" button.
func usageReport(d Deps) http.HandlerFunc {
	return d.teamHandler(func(w http.ResponseWriter, r *http.Request, a teamAccess) error {
		body, p, err := d.readReportRequest(w, r)
		if err != nil {
			return err
		}
		rows, leftOut, err := report.Build(r.Context(), d.Reports, a.Team.ID, body.MemberIDs, p)
		if err != nil {
			return err
		}
		name := report.FileName(a.Team.Name, a.Team.ID, p)
		if err := d.Reports.RecordAudit(r.Context(), reportAudit(r, a, users.AuditDownloadReport, rows, p, d.Now())); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", report.ContentDisposition(name))
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set(HeaderLeftOut, strconv.Itoa(len(leftOut)))
		if len(leftOut) > 0 {
			w.Header().Set(HeaderLeftOutIDs, strings.Join(leftOut[:min(len(leftOut), MaxLeftOutIDs)], ","))
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(report.CSV(rows))
		return nil
	})
}

// reportAudit is the audit entry of a report: which period, how many members.
func reportAudit(r *http.Request, a teamAccess, action string, rows []report.Row, p report.Period, now time.Time) users.AuditEntry {
	e := users.NewAuditEntry(r.Context(), a.Team.ID, action, now)
	e.Detail = map[string]string{"from": report.Day(p.From), "to": report.Day(p.To)}
	if rows != nil {
		e.Detail["members"] = strconv.Itoa(len(rows))
	}
	return e
}

// emailUsageReport is the "Send a usage email" button: the report goes to
// the calling admin through the outbox. Members removed before it is sent
// are left out, and the email says how many.
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
		if len(ms) == 0 {
			return report.ErrNoMembers
		}
		leftOut := []string{}
		for _, id := range body.MemberIDs {
			if _, ok := ms[id]; !ok {
				leftOut = append(leftOut, id)
			}
		}
		e := users.Email{ID: users.NewID("e"), Kind: users.EmailUsageReport, To: a.Caller.Email, TeamID: a.Team.ID,
			Data: map[string]string{"teamName": a.Team.Name, "memberIds": strings.Join(body.MemberIDs, ","), "from": report.Day(p.From), "to": report.Day(p.To)}}
		if err := d.Reports.QueueEmail(r.Context(), e, reportAudit(r, a, users.AuditEmailReport, nil, p, d.Now())); err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"emailId": e.ID, "recipient": e.To, "from": report.Day(p.From), "to": report.Day(p.To), "leftOut": leftOut})
		return nil
	})
}
