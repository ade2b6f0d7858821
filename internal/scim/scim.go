// Package scim is the SCIM 2.0 protocol (RFC 7643, RFC 7644) as a team's
// identity provider speaks it to this service: the User resource as the
// service keeps it, the filters and PATCH operations Okta and Microsoft
// Entra ID send, the discovery documents, and SCIM's error schema. It has
// no AWS or HTTP imports: the HTTP layer (internal/httpapi/scim.go) reads
// requests and the store, and this package says what they mean.
package scim

import (
	"fmt"
	"net/http"
)

// MediaType is SCIM's JSON (RFC 7644 §3.1); application/json is accepted
// too, as the RFC asks.
const MediaType = "application/scim+json"

// Schema URIs.
const (
	SchemaUser           = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaEnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SchemaListResponse   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SchemaPatchOp        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SchemaError          = "urn:ietf:params:scim:api:messages:2.0:Error"
	SchemaSPConfig       = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	SchemaResourceType   = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema         = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// scimType values of an error (RFC 7644 §3.12).
const (
	TypeInvalidFilter = "invalidFilter"
	TypeTooMany       = "tooMany"
	TypeUniqueness    = "uniqueness"
	TypeMutability    = "mutability"
	TypeInvalidSyntax = "invalidSyntax"
	TypeInvalidPath   = "invalidPath"
	TypeNoTarget      = "noTarget"
	TypeInvalidValue  = "invalidValue"
	TypeInvalidVers   = "invalidVers"
)

// Error is a SCIM error response: an HTTP status, for 400 and 409 a
// scimType, and a detail written for the identity provider's admin.
type Error struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("scim %d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("scim %d: %s", e.Status, e.Detail)
}

// Errorf builds an error.
func Errorf(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// ErrorJSON is the body of an error (RFC 7644 §3.12): the status is a
// string there.
type ErrorJSON struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail"`
}

// JSON is the error's body.
func (e *Error) JSON() ErrorJSON {
	return ErrorJSON{Schemas: []string{SchemaError}, Status: fmt.Sprint(e.Status), ScimType: e.ScimType, Detail: e.Detail}
}

func invalidValue(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, TypeInvalidValue, format, args...)
}

func invalidFilter(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, TypeInvalidFilter, format, args...)
}

func invalidPath(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, TypeInvalidPath, format, args...)
}

func mutability(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, TypeMutability, format, args...)
}

func invalidSyntax(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, TypeInvalidSyntax, format, args...)
}
