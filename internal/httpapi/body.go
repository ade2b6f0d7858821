package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/teamusers/usersapi/internal/users"
)

// MaxJSONBody is the largest JSON body accepted.
const MaxJSONBody = 1 << 20

// decodeJSON reads exactly one JSON object into v: application/json only,
// at most 1 MiB, no unknown fields, nothing after the object.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return users.Errorf(users.KindUnsupported, "unsupported_media_type", "Send the body as application/json.")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return users.Errorf(users.KindTooLarge, "body_too_large", "The body is over %d bytes.", MaxJSONBody)
		case errors.As(err, &typ):
			return users.Errorf(users.KindInvalid, "invalid_json", "Field %q has the wrong type.", typ.Field)
		case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return users.Errorf(users.KindInvalid, "invalid_json", "The body is not a JSON object.")
		default:
			// encoding/json says "json: unknown field \"x\"" for DisallowUnknownFields.
			return users.Errorf(users.KindInvalid, "invalid_json", "The body is not valid: %s.", trimJSONPrefix(err.Error()))
		}
	}
	if dec.More() {
		return users.Errorf(users.KindInvalid, "invalid_json", "The body has data after the JSON object.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return users.Errorf(users.KindInvalid, "invalid_json", "The body has data after the JSON object.")
	}
	return nil
}

func trimJSONPrefix(s string) string {
	const p = "json: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
