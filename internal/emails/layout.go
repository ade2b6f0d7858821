package emails

import (
	"html"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The family's one layout. Every email is a content value (below) poured
// into the same two templates: the HTML part (a table layout with inline
// styles, as mail clients need: Gmail, Outlook and Apple Mail ignore or
// strip most <style> rules and know no flexbox or grid) and the text part.
// What varies by kind — wording, details, the call to action — is built in
// Go (templates.go), every piece of text escaped on its way into the HTML
// (span.html). The renderer is render.go's: "{{name}}" substitution, no
// reflection, so the deliverer's bootstrap does not grow.
//
// The HTML part, top to bottom:
//   - a preheader: hidden text that inbox lists show after the subject;
//   - the brand: the logo (LogoURL) or the product's name in the accent colour;
//   - a white card: heading, paragraphs, an optional details table, an
//     optional block of the kind's own (the usage report's figures and
//     table), ONE call-to-action button with its link written out beneath
//     it (for clients that block buttons, and for people who copy links),
//     paragraphs after it;
//   - the footer: who sent it, on whose behalf, and why the reader got it.
//
// It is 600 px wide at most and fluid below: at 375 px (a phone) the card
// fills the screen and nothing scrolls sideways (tests/emails checks it in
// Chromium at both widths).

// span is a run of text in a paragraph: plain, strong, or a link.
type span struct {
	text, href string
	strong     bool
}

// content is one email before it is poured into the layout.
type content struct {
	fromName  string // the From display name (unsafe text: headers.go makes it safe)
	replyTo   string // an address to reply to, or ""
	subject   string
	preheader string
	heading   string
	intro     [][]span
	details   [][2]string // label, value
	blockHTML Safe        // the kind's own block (already escaped), after the details
	blockText string
	cta       cta
	after     [][]span
	footer    [][]span
}

// cta is the one call to action: a button, and its target written out.
type cta struct {
	label   string
	href    string // https://… or mailto:…
	written string // what to write out under the button (the URL, or the address of a mailto)
}

// Styles, inline on every element. Font stacks fall back to Arial.
const (
	font       = `-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif`
	textColour = `#1f2328`
	mutedText  = `#5b6470`
	rule       = `#e3e6ea`
	pStyle     = `margin:0 0 16px;font-family:` + font + `;font-size:16px;line-height:24px;color:` + textColour + `;`
	smallStyle = `margin:0 0 12px;font-family:` + font + `;font-size:13px;line-height:20px;color:` + mutedText + `;`
)

var htmlLayout = MustParse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="color-scheme" content="light">
<meta name="supported-color-schemes" content="light">
<title>{{subject}}</title>
<style>
@media only screen and (max-width:480px) {
  .outer { padding:16px 8px !important; }
  .card { padding:24px 18px !important; }
  .cta-table { width:100% !important; }
  .cta { display:block !important; text-align:center !important; }
}
</style>
</head>
<body style="margin:0;padding:0;width:100%;background-color:#f3f4f6;-webkit-text-size-adjust:100%;">
<div style="display:none;max-height:0;max-width:0;overflow:hidden;opacity:0;mso-hide:all;font-size:1px;line-height:1px;">{{preheader}}{{preheaderPad}}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f3f4f6;">
<tr><td class="outer" align="center" style="padding:24px 12px;">
<!--[if mso]><table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;">
<tr><td style="padding:0 4px 16px;">{{brand}}</td></tr>
<tr><td class="card" style="background-color:#ffffff;border:1px solid ` + rule + `;border-radius:8px;padding:32px 28px;">
<h1 style="margin:0 0 20px;font-family:` + font + `;font-size:24px;line-height:32px;font-weight:700;color:` + textColour + `;">{{heading}}</h1>
{{body}}
</td></tr>
<tr><td id="footer" style="padding:20px 4px 8px;">{{footer}}</td></tr>
</table>
<!--[if mso]></td></tr></table><![endif]-->
</td></tr>
</table>
</body>
</html>
`)

var textLayout = MustParse(`{{heading}}

{{body}}
-- 
{{footer}}
`)

// spansHTML renders a paragraph's spans, each escaped.
func spansHTML(spans []span, accent string) string {
	var b strings.Builder
	for _, s := range spans {
		t := html.EscapeString(s.text)
		switch {
		case s.href != "":
			b.WriteString(`<a href="` + html.EscapeString(s.href) + `" style="color:` + accent + `;text-decoration:underline;word-break:break-word;">` + t + `</a>`)
		case s.strong:
			b.WriteString(`<strong>` + t + `</strong>`)
		default:
			b.WriteString(t)
		}
	}
	return b.String()
}

// spansText renders a paragraph as plain text: a link is its words and
// then its target, unless the words are the target.
func spansText(spans []span) string {
	var b strings.Builder
	for _, s := range spans {
		b.WriteString(s.text)
		if s.href != "" && s.href != s.text && "mailto:"+s.text != s.href {
			b.WriteString(" (" + s.href + ")")
		}
	}
	return b.String()
}

func parasHTML(ps [][]span, style, accent string) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(`<p style="` + style + `">` + spansHTML(p, accent) + "</p>\n")
	}
	return b.String()
}

func parasText(ps [][]span) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(spansText(p) + "\n\n")
	}
	return b.String()
}

// buttonHTML is the call to action: a "bulletproof" button (the colour on
// the cell, and the padding there too for Outlook, which ignores padding
// on links: mso-padding-alt, which only Outlook reads, so other clients
// keep the link's own and the whole button stays clickable), then its
// target written out.
func buttonHTML(c cta, accent string) string {
	href := html.EscapeString(c.href)
	return `<table class="cta-table" role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:8px 0 12px;"><tr>` +
		`<td align="center" bgcolor="` + accent + `" style="border-radius:6px;background-color:` + accent + `;mso-padding-alt:12px 28px;">` +
		`<a class="cta" href="` + href + `" target="_blank" rel="noopener" style="display:inline-block;padding:12px 28px;border:1px solid ` + accent +
		`;border-radius:6px;font-family:` + font + `;font-size:16px;line-height:24px;font-weight:600;color:` + textOn(accent) + `;text-decoration:none;">` +
		html.EscapeString(c.label) + `</a></td></tr></table>` + "\n" +
		`<p style="` + smallStyle + `margin-bottom:24px;">` + html.EscapeString(writtenIntro(c)) + `<br><a href="` + href + `" style="color:` + accent +
		`;word-break:break-all;">` + html.EscapeString(c.written) + "</a></p>\n"
}

func writtenIntro(c cta) string {
	if strings.HasPrefix(c.href, "mailto:") {
		return "Or write to:"
	}
	return "Or copy this link into your browser:"
}

func detailsHTML(rows [][2]string) string {
	if len(rows) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 24px;border-collapse:collapse;">` + "\n")
	for _, r := range rows {
		cell := `padding:8px 0;border-top:1px solid ` + rule + `;font-family:` + font + `;font-size:14px;line-height:20px;vertical-align:top;`
		b.WriteString(`<tr><td style="` + cell + `width:36%;padding-right:12px;color:` + mutedText + `;">` + html.EscapeString(r[0]) +
			`</td><td style="` + cell + `color:` + textColour + `;word-break:break-word;">` + html.EscapeString(r[1]) + "</td></tr>\n")
	}
	b.WriteString("</table>\n")
	return b.String()
}

func detailsText(rows [][2]string) string {
	if len(rows) == 0 {
		return ""
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r[0] + ": " + r[1] + "\n")
	}
	return b.String() + "\n"
}

// brandHTML is the logo, or the product's name when there is none (many
// clients block images until asked: the alt text then says the name).
func brandHTML(b Brand) string {
	name := html.EscapeString(b.Product)
	if b.LogoURL != "" {
		return `<img src="` + html.EscapeString(b.LogoURL) + `" alt="` + name + `" height="32" style="display:block;height:32px;width:auto;max-width:200px;border:0;outline:none;text-decoration:none;font-family:` +
			font + `;font-size:20px;font-weight:700;color:` + b.Accent + `;">`
	}
	return `<span style="font-family:` + font + `;font-size:20px;line-height:28px;font-weight:700;color:` + b.Accent + `;">` + name + `</span>`
}

// preheaderPad keeps clients from filling the inbox preview with the
// body's first words after the preheader: zero-width joiners and spaces.
var preheaderPad = Safe(strings.Repeat("&#8199;&#65279;&#847; ", 40))

// render pours c into both layouts.
func (c content) render(b Brand) (htmlPart, textPart string, err error) {
	var body strings.Builder
	body.WriteString(parasHTML(c.intro, pStyle, b.Accent))
	body.WriteString(detailsHTML(c.details))
	body.WriteString(string(c.blockHTML))
	body.WriteString(buttonHTML(c.cta, b.Accent))
	body.WriteString(parasHTML(c.after, pStyle, b.Accent))
	htmlPart, err = htmlLayout.HTML(Vars{"subject": c.subject, "preheader": c.preheader, "heading": c.heading},
		map[string]Safe{"brand": Safe(brandHTML(b)), "body": Safe(body.String()), "footer": Safe(parasHTML(c.footer, smallStyle, b.Accent)), "preheaderPad": preheaderPad})
	if err != nil {
		return "", "", err
	}
	var text strings.Builder
	text.WriteString(parasText(c.intro))
	text.WriteString(detailsText(c.details))
	text.WriteString(c.blockText)
	text.WriteString(c.cta.label + ":\n" + c.cta.written + "\n\n")
	text.WriteString(parasText(c.after))
	heading := headerText(c.heading, 200)
	textPart, err = textLayout.Text(Vars{"heading": heading + "\n" + strings.Repeat("=", utf8.RuneCountInString(heading)), "body": strings.TrimRight(text.String(), "\n") + "\n", "footer": strings.TrimRight(parasText(c.footer), "\n")})
	return htmlPart, textPart, err
}

// textOn is the button's text colour on the accent: white, or near-black
// on a light accent, whichever reads (WCAG relative luminance).
func textOn(accent string) string {
	if len(accent) != 7 || accent[0] != '#' {
		return "#ffffff"
	}
	lum := 0.0
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, err := strconv.ParseUint(accent[1+2*i:3+2*i], 16, 8)
		if err != nil {
			return "#ffffff"
		}
		c := float64(v) / 255
		if c <= 0.03928 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		lum += w * c
	}
	// Contrast with white is 1.05/(lum+0.05); with #111 about (lum+0.05)/0.056.
	if 1.05/(lum+0.05) >= (lum+0.05)/0.056 {
		return "#ffffff"
	}
	return "#111111"
}
