package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/teamusers/usersapi/internal/users"
)

// MaxJSONBody is the largest JSON body accepted.
const MaxJSONBody = 1 << 20

// maxJSONDepth bounds nesting: no request body of the API nests deeper than 2.
const maxJSONDepth = 16

// decodeJSON reads exactly one JSON object into v (a pointer to a struct):
// application/json only, at most 1 MiB, no field the struct does not name
// (compared exactly, where encoding/json alone would take "ROLE" for
// "role"), no field twice, no null anywhere (the document has no nullable
// request field: leave a field out instead), nothing after the object.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return users.Errorf(users.KindUnsupported, "unsupported_media_type", "Send the body as application/json.")
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxJSONBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return users.Errorf(users.KindTooLarge, "body_too_large", "The body is over %d bytes.", MaxJSONBody)
		}
		return users.Errorf(users.KindInvalid, "invalid_body", "The body could not be read.")
	}
	return decodeJSONBytes(raw, v)
}

// decodeJSONBytes is decodeJSON's check and decoding of a body already read.
func decodeJSONBytes(raw []byte, v any) error {
	if err := checkJSONObject(raw, fieldsOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return users.Errorf(users.KindInvalid, "invalid_json", "Field %q has the wrong type.", typ.Field)
		}
		return errNotObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return users.Errorf(users.KindInvalid, "invalid_json", "The body has data after the JSON object.")
	}
	return nil
}

var errNotObject = users.Errorf(users.KindInvalid, "invalid_json", "The body is not a JSON object.")

// checkJSONObject walks the body's tokens: one object whose keys are among
// fields (exactly, and once each), with no null at any depth.
func checkJSONObject(raw []byte, fields map[string]bool) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if d, ok := tok.(json.Delim); err != nil || !ok || d != '{' {
		return errNotObject
	}
	if err := walkObject(dec, "", 1, fields); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return users.Errorf(users.KindInvalid, "invalid_json", "The body has data after the JSON object.")
	}
	return nil
}

// walkObject reads an object's members after its '{' and its closing '}'.
// fields, when not nil, are the only keys allowed.
func walkObject(dec *json.Decoder, path string, depth int, fields map[string]bool) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return errNotObject
		}
		name := key
		if path != "" {
			name = path + "." + key
		}
		if fields != nil && !fields[key] {
			return users.Errorf(users.KindInvalid, "invalid_json", "The body is not valid: unknown field %q.", name)
		}
		if seen[key] {
			return users.Errorf(users.KindInvalid, "invalid_json", "Field %q is given twice.", name)
		}
		seen[key] = true
		if err := walkValue(dec, name, depth); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return errNotObject
	}
	return nil
}

func walkValue(dec *json.Decoder, path string, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return errNotObject
	}
	d, isDelim := tok.(json.Delim)
	switch {
	case tok == nil:
		return users.Errorf(users.KindInvalid, "invalid_json", "Field %q may not be null; leave it out instead.", path)
	case !isDelim:
		return nil
	case depth >= maxJSONDepth:
		return users.Errorf(users.KindInvalid, "invalid_json", "The body nests deeper than %d levels.", maxJSONDepth)
	case d == '{':
		return walkObject(dec, path, depth+1, nil)
	}
	for i := 0; dec.More(); i++ { // '['
		if err := walkValue(dec, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return errNotObject
	}
	return nil
}

// fieldsOf is the set of JSON names of the struct v points to.
func fieldsOf(v any) map[string]bool {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	out := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out[name] = true
	}
	return out
}
