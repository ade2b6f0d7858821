package mail

import (
	"context"
	"strings"
	"time"

	"github.com/teamusers/usersapi/internal/report"
	"github.com/teamusers/usersapi/internal/users"
)

// ReportEmail renders a queued usage-report email from current data: the
// report's HTML table and text, and the CSV attached.
func ReportEmail(ctx context.Context, src report.Source, e users.Email) (Message, error) {
	p, err := report.ParsePeriod(e.Data["from"], e.Data["to"], time.Now())
	if err != nil {
		return Message{}, err
	}
	rows, leftOut, err := report.Build(ctx, src, e.TeamID, strings.Split(e.Data["memberIds"], ","), p)
	if err != nil {
		return Message{}, err
	}
	subject, text, html, csv := report.Email(e.Data["teamName"], rows, len(leftOut), p)
	return Message{To: e.To, Subject: subject, Text: text, HTML: html,
		Attachments: []Attachment{{Name: report.FileName(e.Data["teamName"], e.TeamID, p), ContentType: "text/csv; charset=utf-8", Data: csv}}}, nil
}
