package scim

import (
	"net/http"
	"strings"
)

// The discovery documents (RFC 7644 §4): what this service supports, its
// one resource type (User) and that type's schema. They are the same for
// every team, so they need no token and read nothing.

// DocumentationURL is where an admin reads how to connect a provider.
const DocumentationURL = "https://docs.usersapi.dev/scim"

// attribute is a schema attribute (RFC 7643 §7).
type attribute struct {
	Name            string      `json:"name"`
	Type            string      `json:"type"`
	MultiValued     bool        `json:"multiValued"`
	Description     string      `json:"description"`
	Required        bool        `json:"required"`
	CaseExact       bool        `json:"caseExact"`
	Mutability      string      `json:"mutability"`
	Returned        string      `json:"returned"`
	Uniqueness      string      `json:"uniqueness"`
	CanonicalValues []string    `json:"canonicalValues,omitempty"`
	SubAttributes   []attribute `json:"subAttributes,omitempty"`
}

func str(name, description string) attribute {
	return attribute{Name: name, Type: "string", Description: description, Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
}

func (a attribute) required() attribute { a.Required = true; return a }

// userAttributes are what this service keeps of a User (see user.go).
// active and roles are required: every member is on or off, and a user
// or an admin.
var userAttributes = []attribute{
	func() attribute {
		a := str("userName", "The identity provider's name for the user, unique in the team (any case).").required()
		a.Uniqueness = "server"
		return a
	}(),
	{Name: "name", Type: "complex", Description: "The user's name, as the identity provider has it.", Mutability: "readWrite", Returned: "default", Uniqueness: "none",
		SubAttributes: []attribute{str("formatted", "The full name."), str("familyName", "The family name."), str("givenName", "The given name.")}},
	str("displayName", "The name to show for the user."),
	{Name: "emails", Type: "complex", MultiValued: true, Required: true, Mutability: "readWrite", Returned: "default", Uniqueness: "none",
		Description: "The user's addresses; the primary one (else the first work one, else the first) is the member's address in the team, and changing it renames the member.",
		SubAttributes: []attribute{
			str("value", "An email address.").required(),
			func() attribute {
				a := str("type", "work, home or other.")
				a.CanonicalValues = []string{"work", "home", "other"}
				return a
			}(),
			{Name: "primary", Type: "boolean", Description: "The member's address.", Mutability: "readWrite", Returned: "default", Uniqueness: "none"},
		}},
	{Name: "active", Type: "boolean", Required: true, Mutability: "readWrite", Returned: "default", Uniqueness: "none",
		Description: "false deactivates the member (no seat, no sign-in; history kept); true reactivates them while a seat is free."},
	{Name: "roles", Type: "complex", MultiValued: true, Required: true, Mutability: "readWrite", Returned: "default", Uniqueness: "none",
		Description: "The member's role in the team: admin when a role's value is admin, else user.",
		SubAttributes: []attribute{
			func() attribute {
				a := str("value", "user or admin.").required()
				a.CanonicalValues = []string{"user", "admin"}
				return a
			}(),
			str("display", "A label for the role."),
			str("type", "The kind of role, as the identity provider names it."),
			{Name: "primary", Type: "boolean", Description: "The user's main role.", Mutability: "readWrite", Returned: "default", Uniqueness: "none"},
		}},
}

type docMeta struct {
	ResourceType string `json:"resourceType"`
	Location     string `json:"location"`
}

// Schemas are the schemas served at /Schemas.
func Schemas(base string) []any {
	return []any{map[string]any{
		"schemas": []string{SchemaSchema}, "id": SchemaUser, "name": "User", "description": "A member of the team.",
		"attributes": userAttributes,
		"meta":       docMeta{ResourceType: "Schema", Location: base + "/Schemas/" + SchemaUser},
	}}
}

// ResourceTypes are the resource types served at /ResourceTypes.
func ResourceTypes(base string) []any {
	return []any{map[string]any{
		"schemas": []string{SchemaResourceType}, "id": "User", "name": "User", "endpoint": "/Users",
		"description": "A member of the team.", "schema": SchemaUser, "schemaExtensions": []any{},
		"meta": docMeta{ResourceType: "ResourceType", Location: base + "/ResourceTypes/User"},
	}}
}

// ServiceProviderConfig is the document at /ServiceProviderConfig.
func ServiceProviderConfig(base string) any {
	no := map[string]bool{"supported": false}
	return map[string]any{
		"schemas":          []string{SchemaSPConfig},
		"documentationUri": DocumentationURL,
		"patch":            map[string]bool{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": MaxCount},
		"changePassword":   no,
		"sort":             no,
		"etag":             map[string]bool{"supported": true},
		"authenticationSchemes": []map[string]any{{
			"type": "oauthbearertoken", "name": "SCIM token", "primary": true,
			"description":      "The team's SCIM token (made by an admin of the team), as Authorization: Bearer <token>.",
			"documentationUri": DocumentationURL,
		}},
		"meta": docMeta{ResourceType: "ServiceProviderConfig", Location: base + "/ServiceProviderConfig"},
	}
}

// Discover answers a request for a discovery document: the path after
// /scim/v2/ and the method. Anything that is no document is SCIM's 404,
// or 405 for a method other than GET on a document.
func Discover(method, path, base string) (any, *Error) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var doc any
	switch {
	case len(segs) == 1 && segs[0] == "ServiceProviderConfig":
		doc = ServiceProviderConfig(base)
	case len(segs) == 1 && segs[0] == "ResourceTypes":
		doc = NewList(1, 1, ResourceTypes(base))
	case len(segs) == 1 && segs[0] == "Schemas":
		doc = NewList(1, 1, Schemas(base))
	case len(segs) == 2 && segs[0] == "ResourceTypes" && segs[1] == "User":
		doc = ResourceTypes(base)[0]
	case len(segs) == 2 && segs[0] == "Schemas" && segs[1] == SchemaUser:
		doc = Schemas(base)[0]
	case len(segs) == 2 && (segs[0] == "ResourceTypes" || segs[0] == "Schemas"):
		return nil, Errorf(http.StatusNotFound, "", "No %s %q here.", strings.TrimSuffix(segs[0], "s"), segs[1])
	case len(segs) == 1 && segs[0] == ".search":
		// Searching every resource type at once (RFC 7644 §3.4.3).
		return nil, Errorf(http.StatusNotImplemented, "", "Searching across resource types is not supported; query /Users.")
	case len(segs) == 2 && segs[0] == "Users" && segs[1] == ".search":
		return nil, Errorf(http.StatusNotImplemented, "", "POST /Users/.search is not supported; GET /Users with a filter.")
	case len(segs) <= 2 && segs[0] == "Users":
		// The routes the Users functions serve take the other methods.
		return nil, Errorf(http.StatusMethodNotAllowed, "", "%s is not supported on /%s.", method, path)
	default:
		return nil, Errorf(http.StatusNotFound, "", "No SCIM endpoint at /%s; this service serves /Users, /ServiceProviderConfig, /ResourceTypes and /Schemas.", path)
	}
	if method != http.MethodGet {
		return nil, Errorf(http.StatusMethodNotAllowed, "", "%s is read-only: GET it.", "/"+path)
	}
	return doc, nil
}
