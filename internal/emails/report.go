package emails

import (
	"context"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/teamusers/usersapi/internal/report"
	"github.com/teamusers/usersapi/internal/users"
)

// maxReportRows is how many members the usage report's email lists; the
// attached CSV has them all. Gmail clips a message's HTML after about
// 100 KB, and a row with its inline styles is about 1.2 KB
// (TestTheUsageReportStaysUnderGmailsClip).
const maxReportRows = 50

// ReportEmail renders a queued usage-report email from current data: the
// period, the team's name, the totals, a table of the members in the
// portal's words, and the CSV attached.
func ReportEmail(ctx context.Context, src report.Source, e users.Email, links Links, brand Brand) (Message, error) {
	p, err := report.ParsePeriod(e.Data["from"], e.Data["to"], time.Now())
	if err != nil {
		return Message{}, err
	}
	rows, leftOut, err := report.Build(ctx, src, e.TeamID, strings.Split(e.Data["memberIds"], ","), p)
	if err != nil {
		return Message{}, err
	}
	m, err := UsageReport(e, rows, len(leftOut), p, links, brand)
	if err != nil {
		return Message{}, err
	}
	m.Attachments = []Attachment{{Name: report.FileName(e.Data["teamName"], e.TeamID, p), ContentType: "text/csv; charset=utf-8", Data: report.CSV(rows)}}
	return m, nil
}

// UsageReport is the report's email without its attachment.
func UsageReport(e users.Email, rows []report.Row, leftOut int, p report.Period, links Links, brand Brand) (Message, error) {
	brand = brand.withDefaults()
	d := newData(e, "", links, brand)
	calls, secs := report.Totals(rows)
	d.set("from", day(p.From)).set("until", day(p.To)).set("period", periodShort(p.From, p.To)).set("members", plural(len(rows), "member", "members")).
		set("calls", plural(calls, "call", "calls")).set("minutes", report.Minutes(secs)).set("file", report.FileName(e.Data["teamName"], e.TeamID, p)).
		set("columns", strings.Join(report.Header, ", "))
	c := content{
		subject:   d.s("Usage report for {{team}}: {{period}}"),
		preheader: d.s("{{members}} · {{calls}} · {{minutes}} talk minutes, {{period}}."),
		heading:   d.s("Usage report for {{team}}"),
		intro:     d.ps("From **{{from}}** to **{{until}}** (whole days, UTC), for the {{members}} you selected."),
		after:     d.ps("The attached CSV ({{file}}) has every member and every column: {{columns}}. It opens in Excel and Google Sheets."),
		footer:    d.footer("You received this email because you asked for this report on the Users page of {{team}}, as one of its admins."),
	}
	if note := report.LeftOutNote(leftOut); note != "" {
		c.intro = append(c.intro, []span{{text: note}})
	}
	c.blockHTML, c.blockText = reportBlock(rows, calls, secs)
	page := links.usersPage(e.TeamID)
	c.cta = cta{label: "Open the Users page", href: page, written: page}
	return finish(e, c, d.err, brand)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// reportBlock is the figures (three tiles) and the members' table, in
// HTML and as text.
func reportBlock(rows []report.Row, calls, secs int) (Safe, string) {
	var h, t strings.Builder
	cell := `font-family:` + font + `;`
	h.WriteString(`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 24px;border-collapse:separate;border-spacing:0;">` + "<tr>\n")
	for i, tile := range [][2]string{{"Members", fmt.Sprint(len(rows))}, {"Calls", fmt.Sprint(calls)}, {"Talk minutes", report.Minutes(secs)}} {
		border := "border-left:4px solid #ffffff;"
		if i == 0 {
			border = ""
		}
		h.WriteString(`<td width="33%" style="` + cell + border + `background-color:#f3f4f6;border-radius:6px;padding:12px;vertical-align:top;">` +
			`<div style="font-size:12px;line-height:16px;color:` + mutedText + `;">` + tile[0] + `</div>` +
			`<div style="font-size:22px;line-height:30px;font-weight:700;color:` + textColour + `;">` + html.EscapeString(tile[1]) + "</div></td>\n")
	}
	h.WriteString("</tr></table>\n")
	fmt.Fprintf(&t, "Members: %d · Calls: %d · Talk minutes: %s\n\n", len(rows), calls, report.Minutes(secs))

	th := cell + `padding:8px 6px 8px 0;border-bottom:2px solid ` + rule + `;font-size:12px;line-height:16px;font-weight:600;color:` + mutedText + `;`
	td := cell + `padding:8px 6px 8px 0;border-bottom:1px solid ` + rule + `;font-size:13px;line-height:18px;color:` + textColour + `;vertical-align:top;`
	small := `font-size:12px;line-height:16px;color:` + mutedText + `;`
	h.WriteString(`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 16px;border-collapse:collapse;">` + "\n")
	h.WriteString(`<tr><th scope="col" align="left" style="` + th + `">Member</th><th scope="col" align="left" style="` + th + `">Last call (UTC)</th><th scope="col" align="right" style="` + th +
		`">Calls</th><th scope="col" align="right" style="` + th + `padding-right:0;">Talk min</th></tr>` + "\n")
	for i, r := range rows {
		if i == maxReportRows {
			break
		}
		m := r.Member
		last := m.LastCall.Label()
		lastText := last
		when := ""
		if !m.LastActiveAt.IsZero() {
			when = `<br><span style="` + small + `">` + shortWhen(m.LastActiveAt) + `</span>`
			lastText += " (" + When(m.LastActiveAt) + ")"
		}
		h.WriteString(`<tr><td style="` + td + `"><span style="overflow-wrap:anywhere;word-break:break-word;">` + html.EscapeString(m.Email) + `</span><br><span style="` + small + `">` +
			html.EscapeString(m.Role.Label()+" · "+m.Status.Label()) + `</span></td><td style="` + td + `">` + html.EscapeString(last) + when +
			`</td><td align="right" style="` + td + `">` + fmt.Sprint(r.Calls) + `</td><td align="right" style="` + td + `padding-right:0;">` +
			report.Minutes(r.Seconds) + "</td></tr>\n")
		fmt.Fprintf(&t, "%s\n  %s · %s · Last call: %s · %s · %s talk minutes\n\n", m.Email, m.Role.Label(), m.Status.Label(), lastText,
			plural(r.Calls, "call", "calls"), report.Minutes(r.Seconds))
	}
	tot := cell + `padding:10px 6px 0 0;font-size:14px;line-height:20px;font-weight:700;color:` + textColour + `;`
	h.WriteString(`<tr><td colspan="2" style="` + tot + `">Total</td><td align="right" style="` + tot + `">` + fmt.Sprint(calls) +
		`</td><td align="right" style="` + tot + `padding-right:0;">` + report.Minutes(secs) + "</td></tr>\n</table>\n")
	fmt.Fprintf(&t, "Total: %s · %s talk minutes\n\n", plural(calls, "call", "calls"), report.Minutes(secs))
	if len(rows) > maxReportRows {
		note := fmt.Sprintf("The table shows the first %d of the %d members; the attached CSV has all of them.", maxReportRows, len(rows))
		h.WriteString(`<p style="` + smallStyle + `">` + note + "</p>\n")
		t.WriteString(note + "\n\n")
	}
	return Safe(h.String()), t.String()
}
