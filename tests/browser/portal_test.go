package browser

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The help article's words for the API's codes: what the page must show.
var (
	statusWords = map[string]string{"active": "Active", "invitation_sent": "Invitation sent",
		"pending_app_login": "Pending app login", "signed_in_with_app": "Signed in with app", "deactivated": "Deactivated"}
	lastCallWords = map[string]string{"pending": "Pending", "not_active": "Not active", "recently": "Recently",
		"last_7_days": "Last 7 days", "last_30_days": "Last 30 days", "more_than_30_days": "More than 30 days"}
	roleWords = map[string]string{"user": "User", "admin": "Admin"}
)

type pageRow struct {
	ID, Email, Status, Last, Role string
}

const rowsJS = `[...document.querySelectorAll('#rows tr[data-id]')].map(tr => ({
  id: tr.dataset.id,
  email: tr.querySelector('.email').textContent,
  status: tr.querySelector('.c-status .status').textContent,
  last: tr.querySelector('.c-last span').textContent,
  role: tr.querySelector('.c-role').textContent.trim(),
}))`

const listIdle = `document.getElementById('users-table').getAttribute('aria-busy') !== 'true'`

func (b *browser) rows() []pageRow { return eval[[]pageRow](b, rowsJS) }

func emails[T any](xs []T, f func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func pageEmails(rs []pageRow) []string { return emails(rs, func(r pageRow) string { return r.Email }) }
func apiEmails(rs []row) []string      { return emails(rs, func(r row) string { return r.Email }) }

// TestUsersPage walks through everything the help article describes, as an
// admin does it, and checks each result against the API.
func TestUsersPage(t *testing.T) {
	const owner = "owner@portal.example"
	const teamName = "Acme Portal Co"
	team, _ := newTeam(t, teamName, owner, 60, 40)
	teamPath := "/v1/teams/" + team
	b := startBrowser(t)
	step := func(name string, fn func(t *testing.T, api apiClient)) {
		ok := t.Run(name, func(st *testing.T) {
			prev := b.t
			b.t = st
			defer func() { b.t = prev }()
			fn(st, asAdmin(st, owner))
		})
		if !ok {
			t.FailNow()
		}
	}

	step("sign in at / and land on the team from /v1/me", func(t *testing.T, api apiClient) {
		b.navigate(site + "/")
		b.waitFor("the sign-in form", `!document.getElementById('signin-local').hidden`)
		b.shot("sign-in")
		b.setValue("#signin-email", "")
		b.typeInto("#signin-email", owner)
		b.click("#signin-local button[type=submit]")
		b.waitFor("the counters", `!document.getElementById('view-users').hidden && !document.getElementById('c-pending').classList.contains('skeleton')`)
		b.waitFor("the first rows", `document.querySelectorAll('#rows tr[data-id]').length === 25 && `+listIdle)
		if got := b.text("#who"); got != owner {
			t.Errorf("signed in as %q", got)
		}
		// No ?team= in the address: the team came from GET /v1/me, by name.
		if got := b.text("#team-name"); got != teamName {
			t.Errorf("the header names the team %q, want %q", got, teamName)
		}
		if !eval[bool](b, `document.getElementById('team-switch').hidden && document.title.includes(`+strconv.Quote(teamName)+`)`) {
			t.Error("one team: a switcher is shown, or the title does not name the team")
		}
		if b.countExact("GET", "/v1/me") != 1 {
			t.Error("the page did not ask GET /v1/me which team to open")
		}
	})

	step("counters equal the summary; the list's count is its total", func(t *testing.T, api apiClient) {
		if d := eval[string](b, `document.querySelector('meta[name=description]')?.content || ''`); len(d) < 40 {
			t.Errorf("meta description %q", d)
		}
		var s summary
		api.get(teamPath+"/summary", &s)
		if got, want := b.text("#list-count"), fmt.Sprintf("Showing 25 of %d users", api.total(team, "")); got != want {
			t.Errorf("count line %q, want %q", got, want)
		}
		for sel, n := range map[string]int{"#c-assigned": s.Seats.Assigned, "#c-purchased": s.Seats.Purchased,
			"#c-pending": s.PendingInvitations, "#c-never": s.NeverUsedApp} {
			if got := b.text(sel); got != strconv.Itoa(n) {
				t.Errorf("%s shows %q, the API says %d", sel, got, n)
			}
		}
		// The article's words, on the page as the admin reads them.
		body := b.text("#view-users")
		for _, words := range []string{"Total assigned seats", "Pending invitation", "Never used the app", "Invite more users",
			"Resend invites", "Send instructions", "More filters", "Select users from CSV", "Remove from team", "Change role",
			"Download report", "User email", "Status", "Last call", "Role"} {
			if !strings.Contains(body, words) {
				t.Errorf("the page does not say %q", words)
			}
		}
	})

	step("rows use the article's labels", func(t *testing.T, api apiClient) {
		want := api.all(team, "")[:25]
		got := b.rows()
		if !slices.Equal(pageEmails(got), apiEmails(want)) {
			t.Fatalf("first page:\n page %v\n api  %v", pageEmails(got), apiEmails(want))
		}
		for i, r := range got {
			w := want[i]
			if r.Status != statusWords[w.Status] || r.Last != lastCallWords[w.LastCall] || r.Role != roleWords[w.Role] {
				t.Errorf("%s shows %q / %q / %q for %s / %s / %s", r.Email, r.Status, r.Last, r.Role, w.Status, w.LastCall, w.Role)
			}
		}
		b.shot("users")
	})

	step("no layout jump while loading; narrow windows", func(t *testing.T, api apiClient) {
		b.do(chromedp.Reload())
		b.waitFor("the reloaded page", `document.querySelectorAll('#rows tr[data-id]').length === 25 && !document.getElementById('c-pending').classList.contains('skeleton')`)
		cls := eval[float64](b, `new Promise(done => {
			let sum = 0;
			new PerformanceObserver(list => { for (const e of list.getEntries()) if (!e.hadRecentInput) sum += e.value; })
				.observe({type: 'layout-shift', buffered: true});
			setTimeout(() => done(sum), 200);
		})`)
		t.Logf("cumulative layout shift while loading: %.4f", cls)
		if cls > 0.01 {
			t.Errorf("cumulative layout shift while loading: %.3f (want ≤ 0.01)", cls)
		}
		for _, w := range []int64{1024, 900} {
			b.viewport(w, 700)
			overflow := eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth ||
				document.querySelector('.table-wrap').scrollWidth > document.querySelector('.table-wrap').clientWidth`)
			if overflow {
				t.Errorf("at %d px the page scrolls sideways", w)
			}
			if w == 1024 {
				b.shot("narrow")
			}
		}
		// Tablets and phones: every row's address whole (wrapped, never
		// cut), its status, last call and role on screen, nothing sideways.
		for _, w := range []int64{768, 480, 390} {
			b.viewport(w, 800)
			bad := eval[string](b, `(() => {
				if (document.documentElement.scrollWidth > innerWidth) return 'the page scrolls sideways';
				for (const tr of document.querySelectorAll('#rows tr[data-id]')) {
					const email = tr.querySelector('.email');
					const r = email.getBoundingClientRect();
					if (email.scrollWidth > Math.ceil(r.width) + 1 || r.right > innerWidth) return 'cut: ' + email.textContent;
					for (const c of ['.c-status', '.c-last', '.c-role']) {
						const cell = tr.querySelector(c), cr = cell.getBoundingClientRect();
						if (!cr.width || cr.right > innerWidth || cell.scrollWidth > cell.clientWidth + 1) return c + ' hidden or cut on ' + email.textContent;
					}
				}
				return '';
			})()`)
			if bad != "" {
				t.Errorf("at %d px: %s", w, bad)
			}
			if w == 390 && eval[bool](b, `(() => { const n = document.getElementById('team-name'); return n.scrollWidth > n.clientWidth + 1 || !n.getBoundingClientRect().width; })()`) {
				t.Errorf("at %d px the team's name is cut: %q", w, b.text("#team-name"))
			}
			if w == 390 {
				b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('users-table').scrollIntoView()`))
				b.shot("phone")
				b.do(chromedp.Evaluate[chromedp.Void](`scrollTo(0, 0)`))
			}
		}
		b.viewport(1280, 800)
		// The first Tab reaches the skip link, with a visible focus ring.
		b.do(chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`), chromedp.KeyEvent(kb.Tab))
		if got := eval[string](b, `document.activeElement.className + ' ' + getComputedStyle(document.activeElement).outlineStyle`); got != "skip-link solid" {
			t.Errorf("first Tab: %q, want the skip link with a solid outline", got)
		}
	})

	step("search by email as you type", func(t *testing.T, api apiClient) {
		before := b.countRequests("GET", teamPath+"/members")
		b.typeInto("#search", "user01")
		b.waitFor("search results", `location.search.includes('q=user01') && `+listIdle)
		want := api.all(team, "q=user01")
		b.waitFor("the matching rows", fmt.Sprintf(`document.querySelectorAll('#rows tr[data-id]').length === %d`, len(want)))
		if got := pageEmails(b.rows()); !slices.Equal(got, apiEmails(want)) {
			t.Errorf("search user01:\n page %v\n api  %v", got, apiEmails(want))
		}
		// A search has no total in the API: the count says what is shown.
		if got, want := b.text("#list-count"), fmt.Sprintf("%d users match", len(want)); got != want {
			t.Errorf("count line %q, want %q", got, want)
		}
		// Debounced: fewer requests than keys (one, unless a key took longer
		// than the 300 ms pause to arrive).
		if n := b.countRequests("GET", teamPath+"/members") - before; n >= len("user01") {
			t.Errorf("typing 6 letters sent %d list requests", n)
		}
		b.clearSearch()
	})

	step("more filters", func(t *testing.T, api apiClient) {
		b.click("#filters-toggle")
		if got := b.text("#filters"); !strings.Contains(got, "Status") || !strings.Contains(got, "Last call date") || !strings.Contains(got, "Role") {
			t.Errorf("filters panel: %q", got)
		}
		b.click(`#filters input[name=status][value=invitation_sent]`)
		want := api.all(team, "status=invitation_sent")
		b.waitFor("invited rows", fmt.Sprintf(`location.search.includes('status=invitation_sent') && %s && document.querySelectorAll('#rows tr[data-id]').length === %d`, listIdle, len(want)))
		for _, r := range b.rows() {
			if r.Status != "Invitation sent" {
				t.Errorf("%s: %s under the Invitation sent filter", r.Email, r.Status)
			}
		}
		if got := pageEmails(b.rows()); !slices.Equal(got, apiEmails(want)) {
			t.Errorf("status filter:\n page %v\n api  %v", got, apiEmails(want))
		}
		if n := api.total(team, "status=invitation_sent"); n != len(want) || b.text("#list-count") != fmt.Sprintf("Showing %d of %d users", n, n) {
			t.Errorf("count line %q; total %d for %d rows", b.text("#list-count"), n, len(want))
		}
		b.click(`#filters input[name=lastCall][value=pending]`)
		b.waitFor("the last call filter", `location.search.includes('lastCall=pending') && `+listIdle)
		b.do(chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, document.querySelector('.toolbar').offsetTop - 16)`))
		b.shot("filters")
		b.do(chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		// Filters combine (AND), values of one filter add up (OR).
		b.click(`#filters input[name=role][value=admin]`)
		want = api.all(team, "status=invitation_sent&lastCall=pending&role=admin")
		b.waitFor("invited admins", fmt.Sprintf(`location.search.includes('role=admin') && %s && document.querySelectorAll('#rows tr[data-id]').length === %d`, listIdle, len(want)))
		if got := pageEmails(b.rows()); !slices.Equal(got, apiEmails(want)) {
			t.Errorf("three filters:\n page %v\n api  %v", got, apiEmails(want))
		}
		b.typeInto("#search", "nobody")
		b.waitFor("the empty state", `!document.getElementById('list-empty').hidden && `+listIdle)
		if got := b.text("#list-empty"); !strings.Contains(got, "No users match") {
			t.Errorf("empty state: %q", got)
		}
		b.click("#list-empty button")
		b.waitFor("the whole list again", `!location.search.includes('status') && document.querySelectorAll('#rows tr[data-id]').length === 25 && `+listIdle)
		b.click("#filters-toggle")
	})

	step("sorting", func(t *testing.T, api apiClient) {
		b.click(`.sort-btn[data-sort=lastActive]`)
		b.waitFor("sorted by last active", `document.querySelector('th.c-last').getAttribute('aria-sort') === 'descending' && location.search.includes('sort=lastActive') && `+listIdle)
		want := api.all(team, "sort=lastActive&order=desc")[:25]
		if got := pageEmails(b.rows()); !slices.Equal(got, apiEmails(want)) {
			t.Errorf("sort by last active:\n page %v\n api  %v", got, apiEmails(want))
		}
		b.setValue("#sort", "invitedAt:asc")
		b.waitFor("sorted by invited", `location.search.includes('sort=invitedAt') && `+listIdle)
		want = api.all(team, "sort=invitedAt&order=asc")[:25]
		if got := pageEmails(b.rows()); !slices.Equal(got, apiEmails(want)) {
			t.Errorf("sort by invited:\n page %v\n api  %v", got, apiEmails(want))
		}
		b.click(`.sort-btn[data-sort=email]`)
		b.waitFor("sorted by email", `document.querySelector('th.c-email').getAttribute('aria-sort') === 'ascending' && !location.search.includes('sort=') && `+listIdle)
	})

	step("paging over the cursor", func(t *testing.T, api apiClient) {
		want := api.all(team, "")
		b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('scroll-sentinel').scrollIntoView()`))
		b.waitFor("the second page", fmt.Sprintf(`document.querySelectorAll('#rows tr[data-id]').length === %d && %s`, len(want), listIdle))
		if got := pageEmails(b.rows()); !slices.Equal(got, apiEmails(want)) {
			t.Errorf("all pages:\n page %v\n api  %v", got, apiEmails(want))
		}
		if got := b.text("#list-count"); got != fmt.Sprintf("Showing %d of %d users", len(want), len(want)) {
			t.Errorf("count line: %q", got)
		}
		if !eval[bool](b, `document.getElementById('load-more').hidden`) {
			t.Error("Load more is offered on the last page")
		}
		b.do(chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	})

	var expired row
	for _, r := range asAdmin(t, owner).all(team, "status=invitation_sent") {
		if r.InvitationExpired {
			expired = r
			break
		}
	}
	if expired.ID == "" {
		t.Fatal("the seed has no expired invitation")
	}

	step("member information, by keyboard", func(t *testing.T, api apiClient) {
		open := fmt.Sprintf(`#rows tr[data-id=%q] .open-btn`, expired.ID)
		b.do(chromedp.Focus(chromedp.CSS(open)), chromedp.KeyEvent(kb.Enter))
		b.waitMember(expired.Email)
		var info struct {
			InvitedAt, InvitationExpiresAt string
		}
		api.get(teamPath+"/members/"+expired.ID, &info)
		body := b.text("#member-body")
		for _, words := range []string{"Invitation sent", "Expired", "Invited", "Invitation expired", "Invitation accepted", "Not yet",
			"First signed in to the app", "Last email", "Resend invite", "Send instructions", "Remove from team", "Role"} {
			if !strings.Contains(body, words) {
				t.Errorf("member information does not say %q:\n%s", words, body)
			}
		}
		for _, at := range []string{info.InvitedAt, info.InvitationExpiresAt} {
			if !eval[bool](b, fmt.Sprintf(`!!document.querySelector('#member-body time[datetime=%q]')`, at)) {
				t.Errorf("no date for %s", at)
			}
		}
		b.shot("member")
		b.do(chromedp.KeyEvent(kb.Escape))
		b.waitFor("the drawer closed, focus back on the arrow", fmt.Sprintf(`!document.getElementById('member').open && document.activeElement === document.querySelector(%q)`, open))
	})

	step("resend invite, then a 429 says when to retry", func(t *testing.T, api apiClient) {
		b.openMember(expired)
		b.click("#member-resend")
		b.waitFor("the resend", `!!document.querySelector('#member-status [data-result="resend-invite"]')`)
		var info struct {
			InvitationExpired   bool
			InvitationExpiresAt string
		}
		api.get(teamPath+"/members/"+expired.ID, &info)
		if info.InvitationExpired {
			t.Error("the invitation is still expired after Resend invite")
		}
		if got := b.text("#member-body"); !strings.Contains(got, "Invitation expires") {
			t.Errorf("after the resend: %s", got)
		}
		b.click("#member-resend")
		b.waitFor("the cooldown", `!!document.querySelector('#member-status [data-result="error"]')`)
		got := b.text("#member-status")
		if !strings.Contains(got, "try again in") && !strings.Contains(got, "try again") {
			t.Errorf("429 message: %q", got)
		}
		if !regexp.MustCompile(`(?i)try again in (\d+|an?) (minute|hour)`).MatchString(got) {
			t.Errorf("the 429 does not say when to retry: %q", got)
		}
		b.shot("retry-after")
		b.click("#member-close")
	})

	var users []row
	for _, r := range asAdmin(t, owner).all(team, "role=user&status=active") {
		users = append(users, r)
	}
	if len(users) < 8 {
		t.Fatalf("the seed has %d active users", len(users))
	}

	step("change a role in member information", func(t *testing.T, api apiClient) {
		m := users[0]
		b.openMember(m)
		// It asks first (a keyboard's ArrowDown must not save and email at
		// once); cancelled, nothing changes and the focus is back on the
		// dropdown.
		b.setValue("#member-role", "admin")
		b.waitFor("the confirmation", `document.getElementById('confirm').open && document.getElementById('confirm-title').textContent.includes('Admin')`)
		b.click("#confirm-cancel")
		b.waitFor("the dropdown back, with the focus", `!document.getElementById('confirm').open && document.getElementById('member-role').value === 'user' && document.activeElement.id === 'member-role'`)
		var before row
		api.get(teamPath+"/members/"+m.ID, &before)
		if before.Role != "user" {
			t.Fatalf("a cancelled role change made them %s", before.Role)
		}
		b.setValue("#member-role", "admin")
		b.waitFor("the confirmation", `document.getElementById('confirm').open`)
		b.click("#confirm-ok")
		b.waitFor("the role change", `!!document.querySelector('#member-status [data-result="role"]')`)
		b.waitFor("the focus on the dropdown", `document.activeElement.id === 'member-role'`)
		var info row
		api.get(teamPath+"/members/"+m.ID, &info)
		if info.Role != "admin" {
			t.Errorf("role %s after the change", info.Role)
		}
		// Send instructions to this one member.
		b.click("#member-instructions")
		b.waitFor("the instructions", `!!document.querySelector('#member-status [data-result="send-instructions"]')`)
		if got := b.text("#member-status"); !strings.Contains(got, "Instructions sent to "+m.Email) {
			t.Errorf("send instructions: %q", got)
		}
		b.click("#member-close")
		if got := b.text(fmt.Sprintf(`#rows tr[data-id=%q] .c-role`, m.ID)); got != "Admin" {
			t.Errorf("the row shows %q", got)
		}
	})

	step("remove from team in member information: asked first, then the focus on what happened", func(t *testing.T, api apiClient) {
		if len(users) < 10 {
			t.Fatalf("the seed has %d active users", len(users))
		}
		m := users[len(users)-1] // no other step uses the last one
		b.openMember(m)
		b.click("#member-remove")
		b.waitFor("the confirmation", `document.getElementById('confirm').open && document.activeElement.id === 'confirm-cancel'`)
		b.click("#confirm-ok")
		b.waitFor("the result, with the focus", `document.activeElement && document.activeElement.dataset.result === 'remove' && !document.getElementById('member').open`)
		if s := api.do("GET", teamPath+"/members/"+m.ID, "", nil, nil); s != 404 {
			t.Errorf("the removed member: %d", s)
		}
	})

	step("dates in the browser's locale and time zone", func(t *testing.T, api apiClient) {
		if _, err := chromedp.Call(b.ctx, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "de_DE"}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(b.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Kolkata"}); err != nil {
			t.Fatal(err)
		}
		b.do(chromedp.Reload())
		b.waitFor("the list", `document.querySelectorAll('#rows tr[data-id]').length > 0 && `+listIdle)
		b.openMember(expired)
		mismatch := eval[string](b, `[...document.querySelectorAll('#member-body time')].map(el => {
			const want = new Intl.DateTimeFormat('de-DE', {dateStyle: 'medium', timeStyle: 'short', timeZone: 'Asia/Kolkata'}).format(new Date(el.dateTime));
			return el.textContent === want ? '' : el.textContent + ' ≠ ' + want;
		}).join('')`)
		if mismatch != "" {
			t.Errorf("dates not in the browser's locale: %s", mismatch)
		}
		b.click("#member-close")
		_, _ = chromedp.Call(b.ctx, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{})
		_, _ = chromedp.Call(b.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: ""})
		b.do(chromedp.Reload())
		b.waitFor("the list", `document.querySelectorAll('#rows tr[data-id]').length === 25 && `+listIdle)
	})

	step("an API error is a readable message", func(t *testing.T, api apiClient) {
		gone := users[1]
		// Someone else removes the member while the admin looks at the list.
		if s := api.do("DELETE", teamPath+"/members/"+gone.ID, "", nil, nil); s != 204 {
			t.Fatalf("remove behind the page's back: %d", s)
		}
		b.openMemberNoWait(gone)
		b.waitFor("the error", `!!document.querySelector('#member-body [data-result="error"]')`)
		if got := b.text("#member-body [data-result=error]"); got != "No such member in this team." {
			t.Errorf("the 404 shows as %q, want the API's detail", got)
		}
		b.click("#member-close")
		b.waitFor("the list without them", fmt.Sprintf(`!document.querySelector('#rows tr[data-id=%q]') && %s`, gone.ID, listIdle))
	})

	const bounce = "bounce@simulator.amazonses.com"
	step("counters the API cannot refresh are marked as old", func(t *testing.T, api apiClient) {
		b.do(chromedp.Evaluate[chromedp.Void](`(() => {
			window.__realFetch = window.fetch;
			window.fetch = (u, o) => String(u).endsWith('/summary') ? Promise.reject(new TypeError('Failed to fetch')) : window.__realFetch(u, o);
			document.dispatchEvent(new Event('visibilitychange'));
		})()`))
		b.waitFor("the stale mark", `!document.getElementById('counters-stale').hidden && document.getElementById('counters').classList.contains('stale')`)
		if got := b.text("#counters-stale"); !strings.HasPrefix(got, "Could not refresh these numbers") {
			t.Errorf("stale note %q", got)
		}
		b.do(chromedp.Evaluate[chromedp.Void](`window.fetch = window.__realFetch`))
		b.click("#counters-stale button")
		b.waitFor("fresh again", `document.getElementById('counters-stale').hidden && !document.getElementById('counters').classList.contains('stale')`)
	})

	step("invite several addresses and see the rows appear", func(t *testing.T, api apiClient) {
		var before summary
		api.get(teamPath+"/summary", &before)
		b.click("#invite-open")
		b.waitFor("the invite dialog", `document.getElementById('invite').open`)
		// A mail client's "Name <address>" is the address; a repeat goes once.
		b.typeInto("#invite-emails", `Bob Lee <bob.lee@portal.example>; "Lee, Ann" <ann.lee@portal.example>, dup@portal.example DUP@portal.example`)
		if got := b.text("#invite-parsed"); !strings.HasPrefix(got, "3 addresses entered (1 repeat left out") {
			t.Errorf("parsed: %q", got)
		}
		// More addresses than free seats: said before sending.
		free := before.Seats.Unassigned
		var many []string
		for i := 0; i <= free; i++ {
			many = append(many, fmt.Sprintf("many%02d@portal.example", i))
		}
		b.setValue("#invite-emails", strings.Join(many, "\n"))
		if got, want := b.text("#invite-parsed"), fmt.Sprintf("Only %d seats are free: the first %d addresses are invited, the other 1 are not.", free, free); !strings.Contains(got, want) {
			t.Errorf("over the seats: %q, want …%q", got, want)
		}
		b.setValue("#invite-emails", "")
		// SES's mailbox simulator bounces the last one (see the next step).
		b.typeInto("#invite-emails", "new.one@portal.example, new.two@portal.example\nnot-an-email\nuser@[127.0.0.1] "+bounce)
		b.setValue("#invite-role", "admin")
		b.click("#invite-submit")
		b.waitFor("per-address results", `!!document.querySelector('#invite-results table')`)
		got := eval[[][]string](b, `[...document.querySelectorAll('#invite-results tbody tr')].map(tr => [...tr.cells].map(c => c.textContent))`)
		// Invalid addresses say why, in the API's words (users.EmailReasons).
		want := [][]string{{"new.one@portal.example", "Invited"}, {"new.two@portal.example", "Invited"},
			{"not-an-email", "Not a valid email address: not an email address"},
			{"user@[127.0.0.1]", "Not a valid email address: addresses at an IP address are not accepted; use the domain name"},
			{bounce, "Invited"}}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("results\n %q\nwant\n %q", got, want)
		}
		// The dialog's free seats are the card's after sending.
		var after summary
		api.get(teamPath+"/summary", &after)
		b.waitFor("fresh seats in the dialog", fmt.Sprintf(`document.getElementById('invite-seats').textContent === %q`,
			fmt.Sprintf("%d unassigned seats of %d.", after.Seats.Unassigned, after.Seats.Purchased)))
		b.shot("invite")
		b.click("#invite-close")
		b.typeInto("#search", "new.")
		b.waitFor("the new rows", `document.querySelectorAll('#rows tr[data-id]').length === 2 && `+listIdle)
		for _, r := range b.rows() {
			if r.Status != "Invitation sent" || r.Role != "Admin" {
				t.Errorf("%s: %s, %s", r.Email, r.Status, r.Role)
			}
		}
		b.waitFor("the counter", fmt.Sprintf(`document.getElementById('c-pending').textContent === '%d'`, before.PendingInvitations+3))
		b.clearSearch()
	})

	step("a bounced invitation shows on its row and in member information", func(t *testing.T, api apiClient) {
		// The simulator's bounce reaches the member moments after the email is sent.
		var bounced row
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			if rs := api.all(team, "q="+url.QueryEscape(bounce)); len(rs) == 1 && rs[0].EmailProblem == "bounced" {
				bounced = rs[0]
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never showed emailProblem bounced", bounce)
			}
		}
		b.typeInto("#search", "bounce@")
		b.waitFor("the bounced row", fmt.Sprintf(`location.search.includes('q=bounce') && document.querySelectorAll('#rows tr[data-id]').length === 1 && !!document.querySelector('#rows tr[data-id=%q]') && %s`, bounced.ID, listIdle))
		if got := b.text(fmt.Sprintf(`#rows tr[data-id=%q] .c-status [data-problem]`, bounced.ID)); got != "Email bounced" {
			t.Errorf("the row's marker: %q, want Email bounced", got)
		}
		b.openMember(bounced)
		if got := b.text("#member-body [data-problem]"); got != "Email bounced" {
			t.Errorf("member information's marker: %q", got)
		}
		if got := b.text("#member-body .email-state strong"); got != "Invitation email: Bounced" {
			t.Errorf("last email: %q, want Invitation email: Bounced", got)
		}
		if got := b.text("#member-body .email-state"); !strings.Contains(got, "mistyped") {
			t.Errorf("no advice for a bounce: %q", got)
		}
		b.shot("bounced")
		b.click("#member-close")
		b.clearSearch()
	})

	step("select users from CSV and act on them", func(t *testing.T, api apiClient) {
		picked := users[2:5]
		csv := "Email,Name\n"
		for _, m := range picked {
			csv += strings.ToUpper(m.Email[:1]) + m.Email[1:] + ",someone\n"
		}
		csv += "nobody@portal.example,x\nnot an email,y\n" + picked[0].Email + ",again\n"
		path := filepath.Join(t.TempDir(), "selection.csv")
		if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
			t.Fatal(err)
		}
		var sel struct {
			Matched, NotFound, Invalid []map[string]any
		}
		if s := api.do("POST", teamPath+"/members/csv-selection", "text/csv", []byte(csv), &sel); s != 200 {
			t.Fatalf("csv-selection: %d", s)
		}
		b.click("#csv-open")
		b.do(chromedp.SetUploadFiles(chromedp.CSS("#csv-file"), []string{path}))
		b.waitFor("the preview", `!!document.querySelector('#csv-status [data-result="csv"]')`)
		line := b.text("#csv-status")
		wantLine := fmt.Sprintf("%d matched · %d not in the team · %d invalid rows", len(sel.Matched), len(sel.NotFound), len(sel.Invalid))
		if line != wantLine {
			t.Errorf("preview %q, the API says %q", line, wantLine)
		}
		if len(sel.Matched) != 3 || len(sel.Invalid) == 0 {
			t.Fatalf("matched %d rows, %d invalid", len(sel.Matched), len(sel.Invalid))
		}
		// Invalid rows say why, in the API's words.
		invalid := eval[[][]string](b, `[...document.querySelectorAll('#csv-preview details:last-of-type tbody tr')].map(tr => [...tr.cells].map(c => c.textContent))`)
		var wantInvalid [][]string
		for _, r := range sel.Invalid {
			if r["reason"] == "" {
				t.Errorf("no reason for %v", r)
			}
			wantInvalid = append(wantInvalid, []string{fmt.Sprint(r["row"]), fmt.Sprint(r["value"]), fmt.Sprint(r["reason"])})
		}
		if !slices.EqualFunc(invalid, wantInvalid, slices.Equal) {
			t.Errorf("invalid rows\n %q\nwant\n %q", invalid, wantInvalid)
		}
		b.shot("csv")
		// Change role on the matched: choose, confirm with the count.
		b.click("#csv-role")
		b.waitFor("the role dialog", `document.getElementById('role').open`)
		b.click(`#role input[value=admin]`)
		b.click("#role-ok")
		b.waitFor("the confirmation", `document.getElementById('confirm').open`)
		if got := b.text("#confirm-title"); got != "Change the role of 3 users?" {
			t.Errorf("confirmation %q", got)
		}
		b.click("#confirm-ok")
		b.waitFor("the bulk summary", `!!document.querySelector('#csv-result [data-result="bulk"]')`)
		if got := b.text("#csv-result .result-line"); got != "Changed to Admin 3 of 3" {
			t.Errorf("summary %q", got)
		}
		for _, m := range picked {
			var info row
			api.get(teamPath+"/members/"+m.ID, &info)
			if info.Role != "admin" {
				t.Errorf("%s is %s", m.Email, info.Role)
			}
		}
		// Download report → Download CSV: the file lands in the download folder.
		dir := t.TempDir()
		if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
			t.Fatal(err)
		}
		b.click("#csv-report summary")
		b.click("#csv-download")
		b.waitFor("the download", `!!document.querySelector('#csv-result [data-result="report"]')`)
		var report []byte
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			files, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
			if len(files) == 1 {
				report, _ = os.ReadFile(files[0])
				break
			}
		}
		lines := strings.Split(strings.TrimSpace(string(report)), "\n")
		if len(lines) != 4 || !strings.Contains(strings.ToLower(lines[0]), "email") {
			t.Errorf("downloaded report:\n%s", report)
		}
		// Excel's "Unicode text": UTF-16 with a byte-order mark, tab-separated.
		utf16File := utf16LE("Email\tName\r\n" + picked[0].Email + "\tAna\r\n" + picked[1].Email + "\tBen\r\n")
		b.uploadCSV(t, "unicode.txt", utf16File)
		if got := b.text("#csv-status"); got != "2 matched · 0 not in the team · 0 invalid rows" {
			t.Errorf("a UTF-16 file: %q", got)
		}
		if got := eval[[]string](b, `[...document.querySelectorAll('#csv-preview details:first-of-type tbody td:nth-child(2)')].map(td => td.textContent)`); !slices.Equal(got, []string{picked[0].Email, picked[1].Email}) {
			t.Errorf("a UTF-16 file matched %q", got)
		}
		// A workbook picked by mistake (a zip, as .xlsx files are): 415 not_csv.
		b.uploadCSV(t, "members.xlsx", zipFile(t))
		want := api.problem("POST", teamPath+"/members/csv-selection", "application/octet-stream", zipFile(t))
		if want.Code != "not_csv" || want.Status != 415 {
			t.Fatalf("the API answers a zip with %+v", want)
		}
		if got := b.refusal("not_csv"); !slices.Equal(got, []string{"This is not a CSV file", want.Detail}) {
			t.Errorf("a zip shows %q, want the heading and %q", got, want.Detail)
		}
		// A file dropped on the zone with no column of addresses: 400 no_email_column.
		b.dropFile("#csv-drop", "names.csv", "name\nAna\nBen\n")
		b.waitFor("the dropped file's answer", `document.getElementById('csv-file-name').textContent.startsWith('names.csv') &&
			!!document.querySelector('#csv-status [data-result]')`)
		want = api.problem("POST", teamPath+"/members/csv-selection", "text/csv", []byte("name\nAna\nBen\n"))
		if want.Code != "no_email_column" || want.Status != 400 {
			t.Fatalf("the API answers a file of names with %+v", want)
		}
		if got := b.refusal("no_email_column"); !slices.Equal(got, []string{"No column of email addresses", want.Detail}) {
			t.Errorf("a file of names shows %q, want the heading and %q", got, want.Detail)
		}
		b.shot("csv-refused")
		if !eval[bool](b, `document.getElementById('csv-actions').hidden && document.getElementById('csv-preview').hidden`) {
			t.Error("a preview or actions offered for a refused file")
		}
		// A header alone: said so, not "0 matched" and three "None.".
		b.dropFile("#csv-drop", "header-only.csv", "email\n")
		b.waitFor("the empty file's answer", `document.getElementById('csv-file-name').textContent.startsWith('header-only.csv') &&
			!!document.querySelector('#csv-status [data-result="empty"]')`)
		if !strings.Contains(b.text("#csv-status"), "The file has no addresses") || !eval[bool](b, `document.getElementById('csv-actions').hidden && document.getElementById('csv-preview').hidden`) {
			t.Errorf("a header-only file: %q", b.text("#csv-status"))
		}
		// Text in UTF-8 goes as text/csv; anything else as bytes (API Gateway
		// passes those base64-encoded, unchanged).
		var types []string
		for _, r := range b.requests() {
			if r.Method == "POST" && strings.HasSuffix(r.URL, "/members/csv-selection") {
				types = append(types, r.ContentType)
			}
		}
		if want := []string{"text/csv", "application/octet-stream", "application/octet-stream", "text/csv", "text/csv"}; !slices.Equal(types, want) {
			t.Errorf("the page sent the files as %q, want %q", types, want)
		}
		b.click("#csv-close")
	})

	step("the bulk bar stays in view while the last rows are ticked", func(t *testing.T, api apiClient) {
		b.waitFor("the list", `document.querySelectorAll('#rows tr[data-id]').length === 25 && `+listIdle)
		last := `#rows tr[data-id]:last-child input[type=checkbox]`
		b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).scrollIntoView({block: 'end'})`, last)))
		b.click(last)
		b.waitFor("the bar on screen, with the count", `(() => { const r = document.querySelector('.bulkbar').getBoundingClientRect();
			return r.top >= 0 && r.bottom <= innerHeight && document.getElementById('selection-count').textContent === '1 user selected' && scrollY > 0; })()`)
		b.click("#selection-clear")
		b.waitFor("nothing selected", `document.getElementById('bulk-remove').disabled`)
		// Scrolling to the end may have loaded the next page: start afresh.
		b.navigate(site + "/")
	})

	step("select all, then a bulk removal with its summary", func(t *testing.T, api apiClient) {
		b.waitFor("the list", `document.querySelectorAll('#rows tr[data-id]').length === 25 && `+listIdle)
		b.click("#select-all")
		b.waitFor("the page selected", `document.getElementById('selection-count').textContent === '25 users selected'`)
		total := api.total(team, "")
		if got, want := b.text("#select-all-more button"), fmt.Sprintf("Select all %d users", total); got != want {
			t.Errorf("select all offers %q, want %q", got, want)
		}
		b.click("#select-all-more button")
		b.waitFor("everyone selected", fmt.Sprintf(`document.getElementById('selection-count').textContent === '%d users selected'`, total))
		b.click("#selection-clear")
		b.waitFor("nothing selected", `document.getElementById('bulk-remove').disabled`)

		var ownerID string
		for _, r := range b.rows() {
			if r.Email == owner {
				ownerID = r.ID
			}
		}
		// The owner alone: nothing to remove, said at once, not as a success.
		b.click(fmt.Sprintf(`#rows tr[data-id=%q] input[type=checkbox]`, ownerID))
		b.click("#bulk-remove")
		b.waitFor("nothing to remove", `!!document.querySelector('#bulk-status .result-bad[data-result="bulk"]') && !document.getElementById('confirm').open`)
		if got := b.text("#bulk-status"); !strings.Contains(got, "Nothing to remove: "+owner+" stays") {
			t.Errorf("the owner alone: %q", got)
		}
		victim := users[5]
		b.click(fmt.Sprintf(`#rows tr[data-id=%q] input[type=checkbox]`, victim.ID))
		b.click("#bulk-remove")
		// The confirmation counts whom it removes and names who stays.
		b.waitFor("the confirmation", `document.getElementById('confirm').open`)
		if got := b.text("#confirm-title"); got != "Remove 1 user from the team?" {
			t.Errorf("confirmation %q", got)
		}
		if got := b.text("#confirm-body"); !strings.Contains(got, victim.Email+" loses access") || !strings.Contains(got, owner+" will stay") {
			t.Errorf("confirmation body %q", got)
		}
		b.shot("confirm")
		b.click("#confirm-ok")
		b.waitFor("the bulk summary", `!!document.querySelector('#bulk-status .result-ok[data-result="bulk"]')`)
		got := b.text("#bulk-status")
		if !strings.Contains(got, "Removed 1 of 1") || !strings.Contains(got, "Left out: "+owner+" (the team owner and you cannot be removed)") {
			t.Errorf("summary %q", got)
		}
		if s := api.do("GET", teamPath+"/members/"+victim.ID, "", nil, nil); s != 404 {
			t.Errorf("the removed member answers %d", s)
		}
		b.waitFor("the list without them", fmt.Sprintf(`!document.querySelector('#rows tr[data-id=%q]') && %s`, victim.ID, listIdle))
		b.shot("bulk")
	})

	step("deactivate and reactivate in member information; the Deactivated filter", func(t *testing.T, api apiClient) {
		m := users[2]
		var before summary
		api.get(teamPath+"/summary", &before)
		b.openMember(m)
		b.click("#member-deactivate")
		b.waitFor("the confirmation", `document.getElementById('confirm').open`)
		if got := b.text("#confirm-title"); got != "Deactivate "+m.Email+"?" {
			t.Errorf("confirmation %q", got)
		}
		b.click("#confirm-ok")
		b.waitFor("the deactivation", `!!document.querySelector('#member-status [data-result="deactivate"]') && !!document.getElementById('member-reactivate')`)
		var info row
		api.get(teamPath+"/members/"+m.ID, &info)
		if info.Status != "deactivated" {
			t.Fatalf("status %s after Deactivate", info.Status)
		}
		if got := b.text("#member-body"); !strings.Contains(got, "Deactivated") || !strings.Contains(got, "the seat is free") || strings.Contains(got, "Send instructions") {
			t.Errorf("member information after Deactivate: %s", got)
		}
		// The notice it queued is named in words, never by its code.
		if got := b.text("#member-body"); !strings.Contains(got, "Deactivation notice email") || strings.Contains(got, "deactivated email") {
			t.Errorf("the last email after Deactivate: %s", got)
		}
		b.shot("member-deactivated")
		b.click("#member-close")
		// The seat is free on the counters, and the row leaves the list.
		b.waitFor("the list without them", fmt.Sprintf(`!document.querySelector('#rows tr[data-id=%q]') && %s && document.getElementById('c-assigned').textContent === %q`,
			m.ID, listIdle, strconv.Itoa(before.Seats.Assigned-1)))

		// Status: Deactivated lists them, in the article's word.
		b.click("#filters-toggle")
		b.click(`#filters input[name=status][value=deactivated]`)
		want := api.all(team, "status=deactivated")
		b.waitFor("deactivated rows", fmt.Sprintf(`location.search.includes('status=deactivated') && %s && document.querySelectorAll('#rows tr[data-id]').length === %d`, listIdle, len(want)))
		if got := b.rows(); len(got) != 1 || got[0].Email != m.Email || got[0].Status != "Deactivated" || got[0].Last != "Not active" {
			t.Errorf("the Deactivated filter shows %+v", got)
		}
		b.shot("deactivated")
		b.openMember(m)
		b.click("#member-reactivate")
		b.waitFor("the reactivation", `!!document.querySelector('#member-status [data-result="reactivate"]') && !!document.getElementById('member-deactivate')`)
		api.get(teamPath+"/members/"+m.ID, &info)
		if info.Status != "active" {
			t.Errorf("status %s after Reactivate", info.Status)
		}
		b.click("#member-close")
		b.waitFor("no one deactivated", `!document.getElementById('list-empty').hidden && `+listIdle)

		// In bulk: the owner stays, two go; then one of them comes back.
		b.click(`#filters input[name=status][value=deactivated]`)
		b.waitFor("the whole list", `!location.search.includes('status') && document.querySelectorAll('#rows tr[data-id]').length === 25 && `+listIdle)
		b.click("#filters-toggle")
		var ownerID string
		for _, r := range api.all(team, "role=admin") {
			if r.IsOwner {
				ownerID = r.ID
			}
		}
		for _, id := range []string{ownerID, users[3].ID, users[4].ID} {
			b.click(fmt.Sprintf(`#rows tr[data-id=%q] input[type=checkbox]`, id))
		}
		b.click("#bulk-deactivate")
		b.waitFor("the confirmation", `document.getElementById('confirm').open`)
		if got := b.text("#confirm-body"); !strings.Contains(got, "the team owner and you cannot be deactivated") {
			t.Errorf("bulk confirmation: %q", got)
		}
		b.click("#confirm-ok")
		b.waitFor("the bulk summary", `(document.querySelector('#bulk-status [data-result="bulk"]')?.textContent || '').startsWith('Deactivated')`)
		if got := b.text("#bulk-status"); !strings.Contains(got, "Deactivated 2 of 2") || !strings.Contains(got, "Left out: "+owner+" (the team owner and you cannot be deactivated)") {
			t.Errorf("bulk deactivate: %q", got)
		}
		b.click("#selection-clear")
		b.navigate(site + "/?status=deactivated")
		b.waitFor("the two deactivated", `document.querySelectorAll('#rows tr[data-id]').length === 2 && `+listIdle)
		b.click(fmt.Sprintf(`#rows tr[data-id=%q] input[type=checkbox]`, users[3].ID))
		b.click("#bulk-reactivate")
		b.waitFor("the confirmation", `document.getElementById('confirm').open`)
		b.click("#confirm-ok")
		b.waitFor("the bulk summary", `(document.querySelector('#bulk-status [data-result="bulk"]')?.textContent || '').startsWith('Reactivated')`)
		if got := b.text("#bulk-status"); !strings.Contains(got, "Reactivated 1 of 1") {
			t.Errorf("bulk reactivate: %q", got)
		}
		if got := api.all(team, "status=deactivated"); len(got) != 1 || got[0].ID != users[4].ID {
			t.Errorf("deactivated after the bulk actions: %+v", got)
		}
		b.navigate(site + "/")
		b.waitFor("the list", `document.querySelectorAll('#rows tr[data-id]').length === 25 && `+listIdle)
	})

	step("send a usage email of the selected", func(t *testing.T, api apiClient) {
		before := len(mails(t, owner))
		b.click(fmt.Sprintf(`#rows tr[data-id=%q] input[type=checkbox]`, users[6].ID))
		b.click("#bulk-report summary")
		b.click("#bulk-email")
		b.waitFor("the confirmation", `document.getElementById('confirm').open`)
		b.click("#confirm-ok")
		b.waitFor("the answer", `!!document.querySelector('#bulk-status [data-result="report"]')`)
		if got := b.text("#bulk-status"); !strings.Contains(got, "on its way to "+owner) {
			t.Errorf("usage email: %q", got)
		}
		for deadline := time.Now().Add(20 * time.Second); len(mails(t, owner)) == before; time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no usage email arrived")
			}
		}
		b.click("#selection-clear")
	})

	step("team jobs: their results, with skip reasons in words and counts", func(t *testing.T, api apiClient) {
		var s summary
		api.get(teamPath+"/summary", &s)
		b.click("#resend-all")
		b.waitFor("the confirmation", `document.getElementById('confirm').open`)
		if got, want := b.text("#confirm-title"), fmt.Sprintf("Resend the invitation to %d pending users?", s.PendingInvitations); got != want {
			t.Errorf("confirmation %q, want %q", got, want)
		}
		b.click("#confirm-ok")
		j := b.jobResult(t, api, teamPath, "Invitations resent")
		// The resent invitation and the three new ones are within the cooldown.
		if j.Done+j.Skipped != s.PendingInvitations || j.Reasons["cooldown"] < 4 {
			t.Errorf("job %+v for %d pending", j, s.PendingInvitations)
		}
		b.shot("job")
		b.click("#job-status .btn-quiet")

		// Pressed again inside the (hour-long) cooldown: every pending
		// member was just emailed, so all are skipped, and the page says why.
		b.click("#resend-all")
		b.waitFor("the confirmation", `document.getElementById('confirm').open`)
		b.click("#confirm-ok")
		j = b.jobResult(t, api, teamPath, "Invitations resent")
		if j.Done != 0 || j.Failed != 0 || j.Skipped != s.PendingInvitations || len(j.Reasons) != 1 || j.Reasons["cooldown"] != s.PendingInvitations {
			t.Errorf("second press: %+v for %d pending", j, s.PendingInvitations)
		}
		if got, want := b.text(`#job-status li[data-code="cooldown"]`), fmt.Sprintf("Skipped %d: emailed recently; the cooldown between two emails has not passed yet", s.PendingInvitations); got != want {
			t.Errorf("the reason reads %q, want %q", got, want)
		}
		b.shot("job-skipped")
		b.click("#job-status .btn-quiet")

		api.get(teamPath+"/summary", &s)
		b.click("#instructions-all")
		b.waitFor("the confirmation", `document.getElementById('confirm').open`)
		if got, want := b.text("#confirm-title"), fmt.Sprintf("Send the app instructions to %d users?", s.NeverUsedApp); got != want {
			t.Errorf("confirmation %q, want %q", got, want)
		}
		b.click("#confirm-ok")
		j = b.jobResult(t, api, teamPath, "Instructions sent")
		if j.Done+j.Skipped != s.NeverUsedApp || j.Done == 0 {
			t.Errorf("job %+v for %d who never used the app", j, s.NeverUsedApp)
		}
	})

	step("team settings: the revoke notice, and a SCIM token made, used and revoked", func(t *testing.T, api apiClient) {
		settings := func() bool {
			var s struct{ Settings struct{ NotifyOnRevoke bool } }
			api.get(teamPath+"/summary", &s)
			return s.Settings.NotifyOnRevoke
		}
		b.click("#settings-open")
		b.waitFor("the settings", `document.getElementById('settings').open && !document.getElementById('scim-tokens').hasAttribute('aria-busy') && document.querySelectorAll('#scim-tokens li').length > 0`)
		if !eval[bool](b, `document.getElementById('settings-revoke-notice').checked`) || !settings() {
			t.Error("the revoke notice is not on by default, on the page or in the API")
		}
		if got := b.text("#scim-tokens"); got != "No tokens: no identity provider is connected." {
			t.Errorf("tokens before any: %q", got)
		}
		if got := eval[string](b, `document.getElementById('scim-url').value`); got != site+"/scim/v2" {
			t.Errorf("SCIM base URL %q", got)
		}
		b.click("#settings-revoke-notice")
		b.waitFor("saved", `document.getElementById('settings-saved').textContent === 'Saved.'`)
		if settings() {
			t.Error("turned off on the page, still on in the API")
		}
		b.click("#settings-revoke-notice")
		b.waitFor("saved again", `document.getElementById('settings-revoke-notice').checked && document.getElementById('settings-saved').textContent === 'Saved.'`)
		if !settings() {
			t.Error("turned on again on the page, still off in the API")
		}

		// A token needs a name; made, it is shown once and works.
		b.click("#scim-create")
		b.waitFor("the refusal", `!document.getElementById('scim-error').hidden`)
		b.typeInto("#scim-name", "Okta")
		b.click("#scim-create")
		b.waitFor("the token", `!document.getElementById('scim-created').hidden && !document.getElementById('scim-tokens').hasAttribute('aria-busy') && document.querySelectorAll('#scim-tokens li[data-id]').length === 1`)
		secret := eval[string](b, `document.getElementById('scim-token').value`)
		if !strings.HasPrefix(secret, "scim."+team+".") || !strings.HasPrefix(b.text("#scim-tokens li"), "Okta") {
			t.Errorf("token %q, list %q", secret, b.text("#scim-tokens"))
		}
		scimGet := func() int {
			req, _ := http.NewRequest("GET", site+"/scim/v2/Users?count=1", nil)
			req.Header.Set("Authorization", "Bearer "+secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := scimGet(); code != 200 {
			t.Errorf("the new token answers %d", code)
		}
		// A second token of the same name (any case) would look the same:
		// refused, with why.
		b.typeInto("#scim-name", "OKTA")
		b.click("#scim-create")
		b.waitFor("the refusal", `!document.getElementById('scim-error').hidden && document.getElementById('scim-error').textContent.includes('exists already')`)
		if n := eval[int](b, `document.querySelectorAll('#scim-tokens li[data-id]').length`); n != 1 {
			t.Errorf("%d tokens after a second of the same name", n)
		}
		b.setValue("#scim-name", "")
		b.shot("settings")
		// Shown once: opened again, the page has only its name.
		b.click("#settings-close")
		b.click("#settings-open")
		b.waitFor("the settings again", `document.getElementById('settings').open && !document.getElementById('scim-tokens').hasAttribute('aria-busy') && document.querySelectorAll('#scim-tokens li[data-id]').length === 1`)
		if eval[bool](b, `!document.getElementById('scim-created').hidden || document.getElementById('settings').textContent.includes(`+strconv.Quote(secret)+`)`) {
			t.Error("the token's secret is shown again")
		}

		// Revoked after a confirmation: its next request is refused.
		b.click("#scim-tokens li[data-id] button")
		b.waitFor("the confirmation", `document.getElementById('confirm').open`)
		if got := b.text("#confirm-title"); got != "Revoke the token Okta?" {
			t.Errorf("confirmation %q", got)
		}
		b.click("#confirm-ok")
		b.waitFor("no tokens", `document.querySelectorAll('#scim-tokens li[data-id]').length === 0 && !document.getElementById('scim-tokens').hasAttribute('aria-busy')`)
		if code := scimGet(); code != 401 {
			t.Errorf("the revoked token answers %d", code)
		}
		b.click("#settings-close")
	})

	step("a caller in two teams gets a switcher and can switch", func(t *testing.T, api apiClient) {
		other, _ := newTeam(t, "Zeta Labs", owner, 10, 3)
		loaded := `!document.getElementById('view-users').hidden && !document.getElementById('c-pending').classList.contains('skeleton') && ` + listIdle
		b.navigate(site + "/")
		b.waitFor("the page with a switcher", `!document.getElementById('team-switch').hidden && `+loaded)
		options := func() []string {
			return eval[[]string](b, `[...document.querySelectorAll('#team-select option')].map(o => o.textContent + (o.selected ? ' (open)' : ''))`)
		}
		if got, want := options(), []string{teamName + " (open)", "Zeta Labs"}; !slices.Equal(got, want) {
			t.Errorf("switcher %q, want %q", got, want)
		}
		if !eval[bool](b, `document.getElementById('team-name').hidden`) {
			t.Error("the header names the team twice")
		}
		b.setValue("#team-select", other)
		b.waitFor("the other team", fmt.Sprintf(`location.search.includes(%q) && %s && document.querySelectorAll('#rows tr[data-id]').length === 4`, "team="+other, loaded))
		var s summary
		api.get("/v1/teams/"+other+"/summary", &s)
		if got := b.text("#c-assigned"); got != strconv.Itoa(s.Seats.Assigned) || s.Team.Name != "Zeta Labs" {
			t.Errorf("assigned %s, the API says %d (team %q)", got, s.Seats.Assigned, s.Team.Name)
		}
		if got, want := pageEmails(b.rows()), apiEmails(api.all(other, "")); !slices.Equal(got, want) {
			t.Errorf("rows %v, want %v", got, want)
		}
		if got, want := options(), []string{teamName, "Zeta Labs (open)"}; !slices.Equal(got, want) || !strings.Contains(eval[string](b, `document.title`), "Zeta Labs") {
			t.Errorf("switcher %q (want %q), title %q", got, want, eval[string](b, `document.title`))
		}
		b.shot("switcher")
		b.setValue("#team-select", team)
		b.waitFor("the first team again", fmt.Sprintf(`location.search.includes(%q) && %s && document.querySelectorAll('#rows tr[data-id]').length === 25`, "team="+team, loaded))
	})

	step("accept an invitation from its email", func(t *testing.T, api apiClient) {
		link := ""
		re := regexp.MustCompile(`https?://[^\s"<>]+/invitations/accept\?token=[^\s"<>&]+`)
		for deadline := time.Now().Add(20 * time.Second); link == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			for _, m := range mails(t, "new.one@portal.example") {
				if l := re.FindString(m); l != "" {
					link = l
				}
			}
		}
		if !strings.HasPrefix(link, site+"/invitations/accept?token=") {
			t.Fatalf("invitation link %q, want one to this page at %s", link, site)
		}
		b.navigate(link)
		b.waitFor("the accept screen", `!document.getElementById('view-accept').hidden`)
		b.shot("accept")
		b.click("#accept-button")
		b.waitFor("the answer", `document.getElementById('accept-result').className === 'ok-text'`)
		joined := api.all(team, "q=new.one")
		if len(joined) != 1 || joined[0].Status != "pending_app_login" {
			t.Errorf("after accepting: %+v", joined)
		}
		// The same link again: the API's 409 already_accepted, in words.
		u, _ := url.Parse(link)
		body, _ := json.Marshal(map[string]string{"token": u.Query().Get("token")})
		if p := api.problem("POST", "/v1/invitations/accept", "application/json", body); p.Status != 409 || p.Code != "already_accepted" {
			t.Errorf("the API answers a second use with %+v", p)
		}
		b.navigate(link)
		b.click("#accept-button")
		b.waitFor("the answer", `document.getElementById('accept-result').dataset.code === 'already_accepted'`)
		if got := b.text("#accept-title"); got != "Invitation already accepted" {
			t.Errorf("second use titled %q", got)
		}
		if got := b.text("#accept-result"); !strings.HasPrefix(got, "This invitation was already accepted, so you are in the team.") {
			t.Errorf("second use: %q", got)
		}
		if !eval[bool](b, `document.getElementById('accept-button').hidden && !location.search.includes('token')`) {
			t.Error("the spent link still offers to accept, or keeps its token in the address")
		}
		b.shot("accept-again")
		// A link that no longer works says so and offers no Accept button.
		b.navigate(site + "/invitations/accept?token=" + strings.Repeat("A", 43))
		b.click("#accept-button")
		b.waitFor("the answer", `document.getElementById('accept-result').dataset.code === 'invalid_token'`)
		if got := b.text("#accept-title"); got != "This link no longer works" || !eval[bool](b, `document.getElementById('accept-button').hidden`) {
			t.Errorf("a dead link: %q, the button still offered: %v", got, !eval[bool](b, `document.getElementById('accept-button').hidden`))
		}
	})

	// signInAs signs the owner out and someone else in, and returns what the
	// page asked the API from then on.
	signInAs := func(t *testing.T, email string) []request {
		b.navigate(site + "/")
		b.waitFor("the page", `!document.getElementById('view-users').hidden || !document.getElementById('view-error').hidden`)
		b.click("#sign-out")
		b.waitFor("the sign-in form", `!document.getElementById('signin-local').hidden`)
		b.setValue("#signin-email", "")
		b.typeInto("#signin-email", email)
		from := len(b.requests())
		b.click("#signin-local button[type=submit]")
		b.waitFor("the refusal", `!document.getElementById('view-error').hidden`)
		return b.requests()[from:]
	}
	// onlyMe checks that the page said why from GET /v1/me alone, without
	// asking a team route for a 403 or 404.
	onlyMe := func(t *testing.T, reqs []request) {
		me := 0
		for _, r := range reqs {
			if strings.HasPrefix(r.URL, site+"/v1/teams/") {
				t.Errorf("asked %s %s", r.Method, r.URL)
			}
			if r.URL == site+"/v1/me" {
				me++
			}
		}
		if me != 1 {
			t.Errorf("GET /v1/me sent %d times", me)
		}
	}

	step("a member who is not an admin reads why, from /v1/me", func(t *testing.T, api apiClient) {
		onlyMe(t, signInAs(t, users[7].Email))
		if got := b.text("#error-title"); got != "The Users page is for team admins" {
			t.Errorf("title %q", got)
		}
		if got, want := b.text("#error-detail"), "You are a user of "+teamName+", not an admin, so you cannot manage its users."; !strings.HasPrefix(got, want) {
			t.Errorf("not an admin: %q, want %q…", got, want)
		}
		if eval[bool](b, `!document.getElementById('error-retry').hidden`) {
			t.Error("the not-an-admin page offers Try again, which cannot help")
		}
		b.shot("not-admin")
	})

	step("an invited admin who has not accepted reads what to do", func(t *testing.T, api apiClient) {
		onlyMe(t, signInAs(t, "new.two@portal.example"))
		if got := b.text("#error-title"); got != "Accept your invitation first" {
			t.Errorf("title %q", got)
		}
		if got, want := b.text("#error-detail"), "You are invited to "+teamName+". Open the link in the invitation email"; !strings.HasPrefix(got, want) {
			t.Errorf("invited: %q, want %q…", got, want)
		}
	})

	step("a deactivated member reads why, from /v1/me", func(t *testing.T, api apiClient) {
		onlyMe(t, signInAs(t, users[4].Email))
		if got := b.text("#error-title"); got != "Your access is turned off" {
			t.Errorf("title %q", got)
		}
		if got, want := b.text("#error-detail"), "Your access to "+teamName+" has been turned off (deactivated)."; !strings.HasPrefix(got, want) {
			t.Errorf("deactivated: %q, want %q…", got, want)
		}
	})

	step("only documented API calls, each POST with an Idempotency-Key, no console errors", func(t *testing.T, api apiClient) {
		b.checkRequests(t)
		b.checkConsole(t)
	})
}

type job struct {
	ID                    string
	Done, Skipped, Failed int
	Reasons               map[string]int
}

// jobResult waits for the result of the team job the page followed, and
// checks it against GET …/jobs/{jobId}: the numbers, and each skip reason
// in words with its count.
func (b *browser) jobResult(t *testing.T, api apiClient, teamPath, doneWord string) job {
	b.t.Helper()
	b.waitFor("the job's result", `!!document.querySelector('#job-status [data-result="job"]')`)
	id := ""
	for _, r := range b.requests() {
		if rest, ok := strings.CutPrefix(r.URL, site+teamPath+"/jobs/"); ok && r.Method == "GET" {
			id = rest
		}
	}
	var j job
	api.get(teamPath+"/jobs/"+id, &j)
	if got, want := b.text("#job-status .result-line"), fmt.Sprintf("%s: %d · skipped %d · failed %d", doneWord, j.Done, j.Skipped, j.Failed); got != want {
		t.Errorf("job result %q, the API says %q", got, want)
	}
	type reason struct{ Code, Text string }
	got := eval[[]reason](b, `[...document.querySelectorAll('#job-status li[data-code]')].map(li => ({code: li.dataset.code, text: li.textContent}))`)
	n := 0
	for _, r := range got {
		if want := fmt.Sprintf("Skipped %d: ", j.Reasons[r.Code]); !strings.HasPrefix(r.Text, want) || len(r.Text) < len(want)+10 || strings.Contains(r.Text, "_") {
			t.Errorf("reason %s reads %q, want %q and words", r.Code, r.Text, want)
		}
		n += j.Reasons[r.Code]
	}
	if len(got) != len(j.Reasons) || n != j.Skipped {
		t.Errorf("the page lists reasons %+v, the API %v (skipped %d)", got, j.Reasons, j.Skipped)
	}
	return j
}

// countExact counts the requests to exactly this path (no query).
func (b *browser) countExact(method, path string) int {
	n := 0
	for _, r := range b.requests() {
		if r.Method == method && r.URL == site+path {
			n++
		}
	}
	return n
}

// uploadCSV picks a file in Select users from CSV and waits for the answer.
func (b *browser) uploadCSV(t *testing.T, name string, content []byte) {
	b.t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#csv-file"), []string{path}))
	b.waitFor("the answer to "+name, fmt.Sprintf(`document.getElementById('csv-file-name').textContent.startsWith(%q) && !!document.querySelector('#csv-status [data-result]')`, name))
}

// refusal is what Select users from CSV says of a refused file: its
// heading and explanation.
func (b *browser) refusal(code string) []string {
	b.t.Helper()
	return eval[[]string](b, fmt.Sprintf(`[...document.querySelectorAll('#csv-status [data-code=%q] p')].map(p => p.textContent)`, code))
}

// utf16LE is Excel's "Unicode text": UTF-16, little-endian, with a BOM.
func utf16LE(s string) []byte {
	out := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

// zipFile is a small zip archive, as an .xlsx workbook is.
func zipFile(t *testing.T) []byte {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, err := z.Create("xl/workbook.xml")
	if err == nil {
		_, err = w.Write([]byte(`<workbook/>`))
	}
	if err == nil {
		err = z.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (b *browser) countRequests(method, path string) int {
	n := 0
	for _, r := range b.requests() {
		if r.Method == method && strings.HasPrefix(r.URL, site+path+"?") {
			n++
		}
	}
	return n
}

// setValue sets a field as a user's choice does: the value, then the
// input and change events.
// dropFile drops a text file on an element, as a drag from the desktop does.
func (b *browser) dropFile(sel, name, content string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const dt = new DataTransfer();
		dt.items.add(new File([%q], %q, {type: 'text/csv'}));
		document.querySelector(%q).dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
	})()`, content, name, sel)))
}

func (b *browser) setValue(sel, v string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q;
		el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); })()`, sel, v)))
}

func (b *browser) clearSearch() {
	b.t.Helper()
	b.setValue("#search", "")
	b.waitFor("the whole list", `!location.search.includes('q=') && document.querySelectorAll('#rows tr[data-id]').length === 25 && `+listIdle)
}

func (b *browser) openMemberNoWait(r row) {
	b.t.Helper()
	b.click(fmt.Sprintf(`#rows tr[data-id=%q] .open-btn`, r.ID))
}

func (b *browser) openMember(r row) {
	b.t.Helper()
	b.openMemberNoWait(r)
	b.waitMember(r.Email)
}

func (b *browser) waitMember(email string) {
	b.t.Helper()
	b.waitFor("member information", fmt.Sprintf(`document.getElementById('member').open && !document.getElementById('member-body').hasAttribute('aria-busy') && !!document.getElementById('member-role') && document.querySelector('#member-body .member-email').textContent.startsWith(%q)`, email))
}
