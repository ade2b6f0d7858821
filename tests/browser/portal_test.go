package browser

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The help article's words for the API's codes: what the page must show.
var (
	statusWords = map[string]string{"active": "Active", "invitation_sent": "Invitation sent",
		"pending_app_login": "Pending app login", "signed_in_with_app": "Signed in with app"}
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
	team, _ := newTeam(t, owner, 60, 40)
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

	step("sign in", func(t *testing.T, api apiClient) {
		b.navigate(site + "/?team=" + team)
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
	})

	step("counters equal the summary", func(t *testing.T, api apiClient) {
		var s summary
		api.get(teamPath+"/summary", &s)
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
		if got := b.text("#list-count"); !strings.Contains(got, fmt.Sprintf("Showing %d", len(want))) {
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
		b.setValue("#member-role", "admin")
		b.waitFor("the role change", `!!document.querySelector('#member-status [data-result="role"]')`)
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

	step("invite several addresses and see the rows appear", func(t *testing.T, api apiClient) {
		var before summary
		api.get(teamPath+"/summary", &before)
		b.click("#invite-open")
		b.waitFor("the invite dialog", `document.getElementById('invite').open`)
		b.typeInto("#invite-emails", "new.one@portal.example, new.two@portal.example\nnot-an-email")
		b.setValue("#invite-role", "admin")
		b.click("#invite-submit")
		b.waitFor("per-address results", `!!document.querySelector('#invite-results table')`)
		got := eval[[][]string](b, `[...document.querySelectorAll('#invite-results tbody tr')].map(tr => [...tr.cells].map(c => c.textContent))`)
		want := [][]string{{"new.one@portal.example", "Invited"}, {"new.two@portal.example", "Invited"}, {"not-an-email", "Not a valid email address"}}
		if len(got) != 3 || !slices.Equal(got[0], want[0]) || !slices.Equal(got[1], want[1]) || got[2][0] != want[2][0] || !strings.HasPrefix(got[2][1], want[2][1]) {
			t.Errorf("results %v, want %v", got, want)
		}
		b.shot("invite")
		b.click("#invite-close")
		b.typeInto("#search", "new.")
		b.waitFor("the new rows", `document.querySelectorAll('#rows tr[data-id]').length === 2 && `+listIdle)
		for _, r := range b.rows() {
			if r.Status != "Invitation sent" || r.Role != "Admin" {
				t.Errorf("%s: %s, %s", r.Email, r.Status, r.Role)
			}
		}
		b.waitFor("the counter", fmt.Sprintf(`document.getElementById('c-pending').textContent === '%d'`, before.PendingInvitations+2))
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
		if len(sel.Matched) != 3 {
			t.Fatalf("matched %d rows", len(sel.Matched))
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
		// A file dropped on the zone: a column of no addresses is explained, not a blank.
		b.do(chromedp.Evaluate[chromedp.Void](`(() => {
			const dt = new DataTransfer();
			dt.items.add(new File(['name\nAna\nBen\n'], 'names.csv', {type: 'text/csv'}));
			document.getElementById('csv-drop').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
		})()`))
		b.waitFor("the dropped file's answer", `document.getElementById('csv-file-name').textContent.startsWith('names.csv') &&
			!!document.querySelector('#csv-status [data-result]')`)
		if got := b.text("#csv-status"); !strings.HasPrefix(got, "0 matched") && len(got) < 20 {
			t.Errorf("a file without addresses: %q", got)
		}
		if !eval[bool](b, `document.getElementById('csv-actions').hidden`) {
			t.Error("actions offered with nothing matched")
		}
		b.click("#csv-close")
	})

	step("select all, then a bulk removal with its summary", func(t *testing.T, api apiClient) {
		b.waitFor("the list", `document.querySelectorAll('#rows tr[data-id]').length === 25 && `+listIdle)
		b.click("#select-all")
		b.waitFor("the page selected", `document.getElementById('selection-count').textContent === '25 users selected'`)
		b.click("#select-all-more button")
		total := len(api.all(team, ""))
		b.waitFor("everyone selected", fmt.Sprintf(`document.getElementById('selection-count').textContent === '%d users selected'`, total))
		b.click("#selection-clear")
		b.waitFor("nothing selected", `document.getElementById('bulk-remove').disabled`)

		var ownerID string
		for _, r := range b.rows() {
			if r.Email == owner {
				ownerID = r.ID
			}
		}
		victim := users[5]
		for _, id := range []string{ownerID, victim.ID} {
			b.click(fmt.Sprintf(`#rows tr[data-id=%q] input[type=checkbox]`, id))
		}
		b.click("#bulk-remove")
		b.waitFor("the confirmation", `document.getElementById('confirm').open`)
		if got := b.text("#confirm-title"); got != "Remove 2 users from the team?" {
			t.Errorf("confirmation %q", got)
		}
		b.shot("confirm")
		b.click("#confirm-ok")
		b.waitFor("the bulk summary", `!!document.querySelector('#bulk-status [data-result="bulk"]')`)
		got := b.text("#bulk-status")
		if !strings.Contains(got, "Removed 1 of 2 · skipped 1") || !strings.Contains(got, "the team owner cannot be removed") {
			t.Errorf("summary %q", got)
		}
		if s := api.do("GET", teamPath+"/members/"+victim.ID, "", nil, nil); s != 404 {
			t.Errorf("the removed member answers %d", s)
		}
		b.waitFor("the list without them", fmt.Sprintf(`!document.querySelector('#rows tr[data-id=%q]') && %s`, victim.ID, listIdle))
		b.shot("bulk")
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

	step("resend invites to the team, with its result", func(t *testing.T, api apiClient) {
		var s summary
		api.get(teamPath+"/summary", &s)
		b.click("#resend-all")
		b.waitFor("the confirmation", `document.getElementById('confirm').open`)
		if got, want := b.text("#confirm-title"), fmt.Sprintf("Resend the invitation to %d pending users?", s.PendingInvitations); got != want {
			t.Errorf("confirmation %q, want %q", got, want)
		}
		b.click("#confirm-ok")
		b.waitFor("the job's result", `!!document.querySelector('#job-status [data-result="job"]')`)
		line := b.text("#job-status .result-line")
		m := regexp.MustCompile(`^Invitations resent: (\d+) · skipped (\d+)`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("job result %q", line)
		}
		done, _ := strconv.Atoi(m[1])
		skipped, _ := strconv.Atoi(m[2])
		// The resent invitation and the two new ones are within the cooldown.
		if done+skipped != s.PendingInvitations || skipped < 3 {
			t.Errorf("job result %q for %d pending", line, s.PendingInvitations)
		}
		b.shot("job")
		b.click("#job-status .btn-quiet")

		api.get(teamPath+"/summary", &s)
		b.click("#instructions-all")
		b.waitFor("the confirmation", `document.getElementById('confirm').open`)
		if got, want := b.text("#confirm-title"), fmt.Sprintf("Send the app instructions to %d users?", s.NeverUsedApp); got != want {
			t.Errorf("confirmation %q, want %q", got, want)
		}
		b.click("#confirm-ok")
		b.waitFor("the job's result", `!!document.querySelector('#job-status [data-result="job"]')`)
		line = b.text("#job-status .result-line")
		m = regexp.MustCompile(`^Instructions sent: (\d+) · skipped (\d+)`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("job result %q", line)
		}
		done, _ = strconv.Atoi(m[1])
		skipped, _ = strconv.Atoi(m[2])
		if done+skipped != s.NeverUsedApp || done == 0 {
			t.Errorf("job result %q for %d who never used the app", line, s.NeverUsedApp)
		}
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
		// The same link again: a readable refusal, not a blank page.
		b.navigate(link)
		b.click("#accept-button")
		b.waitFor("the refusal", `document.getElementById('accept-result').className === 'error-text'`)
		if got := b.text("#accept-result"); len(got) < 20 || strings.Contains(got, "{") {
			t.Errorf("second use: %q", got)
		}
	})

	step("a member who is not an admin reads why", func(t *testing.T, api apiClient) {
		b.navigate(site + "/?team=" + team)
		b.waitFor("the page", `!document.getElementById('view-users').hidden && `+listIdle)
		b.click("#sign-out")
		b.waitFor("the sign-in form", `!document.getElementById('signin-local').hidden`)
		b.setValue("#signin-email", "")
		b.typeInto("#signin-email", users[7].Email)
		b.click("#signin-local button[type=submit]")
		b.waitFor("the refusal", `!document.getElementById('view-error').hidden`)
		if got := b.text("#error-detail"); !strings.Contains(got, "admin") {
			t.Errorf("not an admin: %q", got)
		}
		b.shot("not-admin")
	})

	step("only documented API calls, each POST with an Idempotency-Key, no console errors", func(t *testing.T, api apiClient) {
		b.checkRequests(t)
		b.checkConsole(t)
	})
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
