package scim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/teamusers/usersapi/internal/users"
)

// A team member as an identity provider sees it: the SCIM User resource
// (RFC 7643 §4.1) with the attributes this service keeps.
//
//   - userName: the provider's name for the user, unique in the team (any
//     case); Okta sends the login, Entra ID the user principal name.
//   - emails: the member's address is the primary one (else the first
//     "work" one, else the first); changing it renames the member. A user
//     with no emails needs a userName that is an address.
//   - roles: "admin" makes the member an admin, anything else ("user", or
//     no role) a user. The enterprise extension is not kept: it has no
//     role, and nothing here uses a department or a manager.
//   - active: false deactivates the member (no seat), true reactivates.
//   - externalId, name, displayName: kept as sent.
//
// emails and roles are kept as the provider sent them (type, primary,
// display and all), so what it reads back is what it wrote; when the
// portal has changed the role or the address since, the member's own
// state wins and is what is shown. Other attributes (phone numbers,
// titles, the enterprise extension…) are accepted and not kept.

// Name is the user's name, as sent.
type Name struct {
	Formatted  string `json:"formatted,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	GivenName  string `json:"givenName,omitempty"`
}

// Email is one of the user's addresses, as sent.
type Email struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary *bool  `json:"primary,omitempty"`
	Display string `json:"display,omitempty"`
}

// Role is one of the user's roles, as sent.
type Role struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
	Primary *bool  `json:"primary,omitempty"`
}

// Meta is the resource's metadata.
type Meta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created"`
	LastModified string `json:"lastModified"`
	Location     string `json:"location"`
	Version      string `json:"version"`
}

// User is the resource as it is answered.
type User struct {
	Schemas     []string `json:"schemas"`
	ID          string   `json:"id"`
	ExternalID  string   `json:"externalId,omitempty"`
	UserName    string   `json:"userName"`
	Name        *Name    `json:"name,omitempty"`
	DisplayName string   `json:"displayName,omitempty"`
	Emails      []Email  `json:"emails,omitempty"`
	Active      bool     `json:"active"`
	Roles       []Role   `json:"roles,omitempty"`
	Meta        Meta     `json:"meta"`
}

// stored is users.Member.IdPData: what is kept as the provider sent it.
type stored struct {
	Name        *Name   `json:"name,omitempty"`
	DisplayName string  `json:"displayName,omitempty"`
	Emails      []Email `json:"emails,omitempty"`
	Roles       *[]Role `json:"roles,omitempty"` // nil: never sent
}

// State is a user as a provider edits it: what POST creates, PUT replaces
// and PATCH changes.
type State struct {
	UserName    string
	ExternalID  string
	DisplayName string
	Name        *Name
	Emails      []Email
	Roles       []Role
	RolesSet    bool // roles were sent (none is a user)
	Active      bool
}

// ETag is the entity tag of the resource (RFC 7644 §3.14): a digest of
// what the provider reads, so that it changes when the resource does and
// only then. The member's stored version would not do: it also moves for
// things the resource does not show (an email's delivery, app activity),
// and a provider's If-Match would fail for changes it cannot see.
func ETag(m users.Member) string {
	u := Render(m, "")
	u.Meta = Meta{}
	b, _ := json.Marshal(u)
	sum := sha256.Sum256(b)
	return `W/"` + hex.EncodeToString(sum[:8]) + `"`
}

// MatchesETag reports whether an If-Match or If-None-Match value names the
// member's version ("*" names any).
func MatchesETag(header string, m users.Member) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == strings.TrimPrefix(ETag(m), "W/") {
			return true
		}
	}
	return false
}

func storedOf(m users.Member) stored {
	var s stored
	if m.IdPData != "" {
		_ = json.Unmarshal([]byte(m.IdPData), &s) // written by State.Update only
	}
	return s
}

// StateOf is a member as a provider edits it.
func StateOf(m users.Member) State {
	s := storedOf(m)
	st := State{UserName: m.UserName, ExternalID: m.ExternalID, DisplayName: s.DisplayName, Name: s.Name,
		Active: m.Status != users.StatusDeactivated, RolesSet: true}
	if st.UserName == "" {
		st.UserName = m.Email // a member the portal invited: the address is the name
	}
	st.Emails = emailsOf(m, s)
	st.Roles = rolesOf(m, s)
	return st
}

// emailsOf are the addresses shown: as sent, unless the member's address
// is another one now.
func emailsOf(m users.Member, s stored) []Email {
	if len(s.Emails) > 0 {
		if addr, err := addressOf(s.Emails, ""); err == nil && addr == m.Email {
			return s.Emails
		}
	}
	yes := true
	return []Email{{Value: m.Email, Type: "work", Primary: &yes}}
}

// rolesOf are the roles shown: as sent, unless the member's role is
// another one now.
func rolesOf(m users.Member, s stored) []Role {
	if s.Roles != nil {
		if r, err := roleOf(*s.Roles); err == nil && r == m.Role {
			return *s.Roles
		}
	}
	yes := true
	return []Role{{Value: string(m.Role), Primary: &yes}}
}

// Render is the member as the User resource; base is the service's URL
// (…/scim/v2).
func Render(m users.Member, base string) User {
	st := StateOf(m)
	created := m.InvitedAt
	if created.IsZero() {
		created = m.AcceptedAt
	}
	modified := m.UpdatedAt
	if modified.IsZero() {
		modified = created
	}
	u := User{Schemas: []string{SchemaUser}, ID: m.ID, ExternalID: st.ExternalID, UserName: st.UserName, Name: st.Name,
		DisplayName: st.DisplayName, Emails: st.Emails, Active: st.Active, Roles: st.Roles}
	if u.Name != nil && *u.Name == (Name{}) {
		u.Name = nil
	}
	if base != "" {
		u.Meta = Meta{ResourceType: "User", Created: stamp(created), LastModified: stamp(modified), Location: base + "/Users/" + m.ID, Version: ETag(m)}
	}
	return u
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Limits of what is kept.
const (
	maxText   = 256 // userName, externalId, displayName, a name part, a type
	maxValues = 10  // emails, roles
)

// Update checks the state and says what it asks of the member: its
// address, role, and what is kept as sent.
func (st State) Update() (users.IdPUpdate, error) {
	if st.UserName == "" {
		return users.IdPUpdate{}, invalidValue("userName is required.")
	}
	for _, f := range []struct{ name, v string }{{"userName", st.UserName}, {"externalId", st.ExternalID}, {"displayName", st.DisplayName}} {
		if err := checkText(f.name, f.v); err != nil {
			return users.IdPUpdate{}, err
		}
	}
	if n := st.Name; n != nil {
		for _, f := range []struct{ name, v string }{{"name.formatted", n.Formatted}, {"name.familyName", n.FamilyName}, {"name.givenName", n.GivenName}} {
			if err := checkText(f.name, f.v); err != nil {
				return users.IdPUpdate{}, err
			}
		}
	}
	if len(st.Emails) > maxValues || len(st.Roles) > maxValues {
		return users.IdPUpdate{}, invalidValue("emails and roles hold at most %d values each.", maxValues)
	}
	for _, e := range st.Emails {
		if err := checkText("emails.type", e.Type); err != nil {
			return users.IdPUpdate{}, err
		}
		if err := checkText("emails.display", e.Display); err != nil {
			return users.IdPUpdate{}, err
		}
	}
	addr, err := addressOf(st.Emails, st.UserName)
	if err != nil {
		return users.IdPUpdate{}, err
	}
	role, err := roleOf(st.Roles)
	if err != nil {
		return users.IdPUpdate{}, err
	}
	for _, r := range st.Roles {
		if err := checkText("roles.display", r.Display); err != nil {
			return users.IdPUpdate{}, err
		}
		if err := checkText("roles.type", r.Type); err != nil {
			return users.IdPUpdate{}, err
		}
	}
	s := stored{Name: st.Name, DisplayName: st.DisplayName, Emails: st.Emails}
	if s.Name != nil && *s.Name == (Name{}) {
		s.Name = nil
	}
	if st.RolesSet {
		roles := st.Roles
		if roles == nil {
			roles = []Role{}
		}
		s.Roles = &roles
	}
	data := ""
	if s.Name != nil || s.DisplayName != "" || len(s.Emails) > 0 || s.Roles != nil {
		b, _ := json.Marshal(s)
		data = string(b)
	}
	return users.IdPUpdate{Email: addr, UserName: st.UserName, ExternalID: st.ExternalID, Data: data, Active: st.Active, Role: role}, nil
}

func checkText(name, v string) error {
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxText {
		return invalidValue("%s must be text of at most %d characters.", name, maxText)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return invalidValue("%s may not contain control characters.", name)
		}
	}
	return nil
}

// addressOf is the member's address: the primary email, else the first
// "work" one, else the first; with no emails, the userName when it is an
// address. Every email must be an address.
func addressOf(emails []Email, userName string) (string, error) {
	chosen := -1
	for i, e := range emails {
		if _, reason := users.CheckEmail(e.Value); reason != "" {
			return "", invalidValue("emails[%d].value %q is not an address this service accepts: %s.", i, e.Value, reason)
		}
		switch {
		case e.Primary != nil && *e.Primary:
			chosen = i
		case chosen < 0 && strings.EqualFold(e.Type, "work"):
			chosen = i
		}
	}
	if len(emails) > 0 {
		if chosen < 0 {
			chosen = 0
		}
		addr, _ := users.CheckEmail(emails[chosen].Value)
		return addr, nil
	}
	if addr, reason := users.CheckEmail(userName); reason == "" {
		return addr, nil
	}
	return "", invalidValue("emails must hold the member's address (the team reaches and knows its members by it), or userName must be one.")
}

// roleOf is the team role the roles ask for: admin when one of them is
// "admin", else user. Other values are refused, so a typo in the
// provider's mapping is seen at once.
func roleOf(roles []Role) (users.Role, error) {
	role := users.RoleUser
	for _, r := range roles {
		switch strings.ToLower(strings.TrimSpace(r.Value)) {
		case "admin":
			role = users.RoleAdmin
		case "user":
		default:
			return "", invalidValue("roles take the values \"user\" and \"admin\", not %q.", r.Value)
		}
	}
	return role, nil
}

// The body of a POST or PUT, and the document a PATCH edits, is a JSON
// object whose attribute names are matched without regard to case (RFC
// 7643 §2.1).

// ParseBody reads a request body as a JSON object.
func ParseBody(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, invalidSyntax("The body is not a JSON object.")
	}
	if dec.More() {
		return nil, invalidSyntax("The body has data after the JSON object.")
	}
	return doc, nil
}

// Document is the member as a JSON document, for PATCH to edit.
func Document(m users.Member) map[string]any {
	b, _ := json.Marshal(Render(m, ""))
	doc, _ := ParseBody(b)
	return doc
}

// Mode says how absent attributes are read.
type Mode int

const (
	// Create: a new user; active defaults to true, roles to none (user).
	Create Mode = iota
	// Replace (PUT): optional attributes absent are cleared; active,
	// emails and roles absent are left as they are (RFC 7644 §3.5.1 lets
	// a service provider take them as not asserted).
	Replace
	// Patched: the document a PATCH left; absent means removed.
	Patched
)

// StateFrom reads a body (or a patched document) into the state it asks
// for; current is the member's state (ignored for Create). Attributes this
// service does not keep are ignored, as are the read-only ones.
func StateFrom(doc map[string]any, mode Mode, current State) (State, error) {
	st := State{Active: true}
	if mode != Create {
		st = State{Active: current.Active, Emails: current.Emails, Roles: current.Roles, RolesSet: current.RolesSet}
	}
	if mode == Patched {
		st.Emails, st.Roles = nil, nil
	}
	var err error
	get := func(name string) (any, bool) { return lookup(doc, name) }
	if v, ok := get("userName"); ok && v != nil {
		if st.UserName, err = text("userName", v); err != nil {
			return st, err
		}
	}
	if v, ok := get("externalId"); ok {
		if st.ExternalID, err = text("externalId", v); err != nil {
			return st, err
		}
	}
	if v, ok := get("displayName"); ok {
		if st.DisplayName, err = text("displayName", v); err != nil {
			return st, err
		}
	}
	if v, ok := get("name"); ok && v != nil {
		if st.Name, err = nameFrom(v); err != nil {
			return st, err
		}
	}
	switch v, ok := get("active"); {
	case ok && v != nil:
		if st.Active, err = boolean("active", v); err != nil {
			return st, err
		}
	case mode == Patched:
		return st, mutability("active cannot be removed; set it to false to deactivate the member.")
	}
	if v, ok := get("emails"); ok && v != nil {
		if st.Emails, err = emailsFrom(v); err != nil {
			return st, err
		}
	}
	switch v, ok := get("roles"); {
	case ok && v != nil:
		if st.Roles, err = rolesFrom(v); err != nil {
			return st, err
		}
		st.RolesSet = true
	case mode == Patched:
		st.Roles, st.RolesSet = nil, true
	}
	return st, nil
}

// lookup finds an attribute without regard to case.
func lookup(obj map[string]any, name string) (any, bool) {
	if v, ok := obj[name]; ok {
		return v, true
	}
	for k, v := range obj {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

func text(name string, v any) (string, error) {
	switch s := v.(type) {
	case nil:
		return "", nil
	case string:
		return s, nil
	}
	return "", invalidValue("%s must be a string.", name)
}

// boolean takes JSON booleans and, as Entra ID sends them, the strings
// "True" and "False" in any case.
func boolean(name string, v any) (bool, error) {
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(b)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, invalidValue("%s must be true or false.", name)
}

func object(name string, v any) (map[string]any, error) {
	o, ok := v.(map[string]any)
	if !ok {
		return nil, invalidValue("%s must be an object.", name)
	}
	return o, nil
}

func nameFrom(v any) (*Name, error) {
	o, err := object("name", v)
	if err != nil {
		return nil, err
	}
	var n Name
	for _, f := range []struct {
		name string
		to   *string
	}{{"formatted", &n.Formatted}, {"familyName", &n.FamilyName}, {"givenName", &n.GivenName}} {
		if x, ok := lookup(o, f.name); ok {
			if *f.to, err = text("name."+f.name, x); err != nil {
				return nil, err
			}
		}
	}
	return &n, nil
}

// values reads a multi-valued attribute: an array, or one value alone.
func values(v any) []any {
	if a, ok := v.([]any); ok {
		return a
	}
	return []any{v}
}

func emailsFrom(v any) ([]Email, error) {
	var out []Email
	for i, x := range values(v) {
		if s, ok := x.(string); ok {
			out = append(out, Email{Value: s})
			continue
		}
		o, err := object(fmt.Sprintf("emails[%d]", i), x)
		if err != nil {
			return nil, err
		}
		var e Email
		if e.Value, err = subText(o, "emails", "value"); err != nil {
			return nil, err
		}
		if e.Type, err = subText(o, "emails", "type"); err != nil {
			return nil, err
		}
		if e.Display, err = subText(o, "emails", "display"); err != nil {
			return nil, err
		}
		if p, ok := lookup(o, "primary"); ok && p != nil {
			b, err := boolean("emails.primary", p)
			if err != nil {
				return nil, err
			}
			e.Primary = &b
		}
		out = append(out, e)
	}
	return out, nil
}

// rolesFrom takes role objects, and role names alone (as some providers'
// mappings send them).
func rolesFrom(v any) ([]Role, error) {
	out := []Role{}
	for i, x := range values(v) {
		if s, ok := x.(string); ok {
			out = append(out, Role{Value: s})
			continue
		}
		o, err := object(fmt.Sprintf("roles[%d]", i), x)
		if err != nil {
			return nil, err
		}
		var r Role
		if r.Value, err = subText(o, "roles", "value"); err != nil {
			return nil, err
		}
		if r.Display, err = subText(o, "roles", "display"); err != nil {
			return nil, err
		}
		if r.Type, err = subText(o, "roles", "type"); err != nil {
			return nil, err
		}
		if p, ok := lookup(o, "primary"); ok && p != nil {
			b, err := boolean("roles.primary", p)
			if err != nil {
				return nil, err
			}
			r.Primary = &b
		}
		out = append(out, r)
	}
	return out, nil
}

func subText(o map[string]any, attr, sub string) (string, error) {
	v, ok := lookup(o, sub)
	if !ok {
		return "", nil
	}
	return text(attr+"."+sub, v)
}

// Paging parameters (RFC 7644 §3.4.2.4).
const (
	DefaultCount = 100
	MaxCount     = 500
)

// Paging reads startIndex (1-based; below 1 is 1) and count (0 to
// MaxCount, default DefaultCount; a negative count is 0).
func Paging(startIndex, count string) (start, n int, err error) {
	start, n = 1, DefaultCount
	if startIndex != "" {
		if start, err = strconv.Atoi(startIndex); err != nil {
			return 0, 0, invalidValue("startIndex must be a whole number.")
		}
		start = max(start, 1)
	}
	if count != "" {
		if n, err = strconv.Atoi(count); err != nil {
			return 0, 0, invalidValue("count must be a whole number.")
		}
		n = min(max(n, 0), MaxCount)
	}
	return start, n, nil
}

// ListResponse is a page of resources.
type ListResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []any    `json:"Resources"`
}

// NewList is a page of resources.
func NewList(total, start int, resources []any) ListResponse {
	if resources == nil {
		resources = []any{}
	}
	return ListResponse{Schemas: []string{SchemaListResponse}, TotalResults: total, StartIndex: start, ItemsPerPage: len(resources), Resources: resources}
}

// NotFound is the answer for a user that is not in the team.
func NotFound(id string) *Error {
	return Errorf(http.StatusNotFound, "", "No user %q in this team.", id)
}
