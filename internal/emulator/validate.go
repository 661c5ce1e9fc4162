package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// maxBodyBytes is the largest request body accepted; larger ones get 413.
const maxBodyBytes = 64 << 10

// Field error messages, shared by create, PUT and PATCH.
const (
	msgRequired   = "This field is required."
	msgNull       = "This field may not be null."
	msgBlank      = "This field may not be blank."
	msgString     = "Must be a string."
	msgInteger    = "Must be an integer."
	msgBoolean    = "Must be a boolean."
	msgPositive   = "Must be a positive integer."
	msgNameLength = "Must be at most 64 characters."
	msgNameChars  = "Only letters, digits and hyphens are allowed."
	msgHostname   = "Must be a fully qualified domain name, such as web01.example.com."
)

// apiError is an error answer in the emulator's format:
// {"detail": "...", "errors": {"field": ["message", ...]}}.
type apiError struct {
	status int
	detail string
	fields fieldErrors
}

type errorBody struct {
	Detail string      `json:"detail"`
	Errors fieldErrors `json:"errors,omitempty"`
}

func (a *apiError) body() errorBody { return errorBody{Detail: a.detail, Errors: a.fields} }

func detailError(status int, detail string) *apiError {
	return &apiError{status: status, detail: detail}
}

func invalid(fields fieldErrors) *apiError {
	return &apiError{status: http.StatusBadRequest, detail: "Invalid parameters.", fields: fields}
}

type fieldErrors map[string][]string

func (fe fieldErrors) add(field, msg string) { fe[field] = append(fe[field], msg) }

// jsonObject is a request body: the raw value of every key sent.
type jsonObject map[string]json.RawMessage

// readBody reads and parses a JSON object body. An empty body counts as {}.
func readBody(w http.ResponseWriter, r *http.Request) (jsonObject, *apiError) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, detailError(http.StatusRequestEntityTooLarge,
				fmt.Sprintf("Request body too large: the limit is %d bytes.", maxBodyBytes))
		}
		return nil, detailError(http.StatusBadRequest, "Could not read the request body.")
	}
	return parseObject(data)
}

func parseObject(data []byte) (jsonObject, *apiError) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return jsonObject{}, nil
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		msg := "invalid JSON"
		if err != nil {
			msg = err.Error()
		}
		return nil, detailError(http.StatusBadRequest, "Malformed JSON: "+msg)
	}
	if data[0] != '{' {
		return nil, invalid(fieldErrors{"non_field_errors": {"Expected a JSON object, but got " + jsonKind(data) + "."}})
	}
	var obj jsonObject
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, detailError(http.StatusBadRequest, "Malformed JSON: "+err.Error())
	}
	return obj, nil
}

func jsonKind(raw json.RawMessage) string {
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func decodeString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// decodeInt accepts only integer literals that fit int64: 1.0, 1e3 and "1"
// are rejected, so type mistakes in a client show up.
func decodeInt(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	text := string(raw)
	digits := strings.TrimPrefix(text, "-")
	if digits == "" {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

func decodeBool(raw json.RawMessage) (bool, bool) {
	switch string(bytes.TrimSpace(raw)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// checkName returns the problem with a server name, or "".
func checkName(name string) string {
	if name == "" {
		return msgBlank
	}
	if len(name) > 64 {
		return msgNameLength
	}
	for i := 0; i < len(name); i++ {
		if !isLetterDigit(name[i]) && name[i] != '-' {
			return msgNameChars
		}
	}
	return ""
}

// checkHostname returns the problem with a hostname, or "". An FQDN here is
// at least two dot-separated labels of letters, digits and hyphens, each
// 1-63 long and not starting or ending with a hyphen, at most 253 in all,
// with no trailing dot.
func checkHostname(h string) string {
	if h == "" {
		return msgBlank
	}
	if len(h) > 253 {
		return msgHostname
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return msgHostname
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return msgHostname
		}
		for i := 0; i < len(l); i++ {
			if !isLetterDigit(l[i]) && l[i] != '-' {
				return msgHostname
			}
		}
	}
	return ""
}

func isLetterDigit(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// createRequest is a validated create body.
type createRequest struct {
	name     string
	hostname *string
	plan     Plan
	os       OS
	location string
	sshKeyID *int64
	backups  bool
}

func parseCreate(obj jsonObject, cat catalog) (createRequest, fieldErrors) {
	var req createRequest
	fe := fieldErrors{}

	if name, ok := requiredString(obj, fe, "name"); ok {
		if msg := checkName(name); msg != "" {
			fe.add("name", msg)
		}
		req.name = name
	}
	if id, ok := requiredInt(obj, fe, "plan_id"); ok {
		if p, found := cat.plan(id); found {
			req.plan = p
		} else {
			fe.add("plan_id", fmt.Sprintf("Unknown plan %d; valid plans are %s.", id, cat.planIDs()))
		}
	}
	if id, ok := requiredInt(obj, fe, "os_id"); ok {
		if o, found := cat.os(id); found {
			req.os = o
		} else {
			fe.add("os_id", fmt.Sprintf("Unknown operating system %d; valid ones are %s.", id, cat.osIDs()))
		}
	}
	if loc, ok := requiredString(obj, fe, "location"); ok {
		if msg := checkLocation(loc, cat); msg != "" {
			fe.add("location", msg)
		}
		req.location = loc
	}
	// Optional fields: absent and null both mean "not given".
	if raw, ok := obj["hostname"]; ok && !isNull(raw) {
		if h, ok := decodeString(raw); !ok {
			fe.add("hostname", msgString)
		} else if msg := checkHostname(h); msg != "" {
			fe.add("hostname", msg)
		} else {
			req.hostname = &h
		}
	}
	if raw, ok := obj["ssh_key_id"]; ok && !isNull(raw) {
		if id, ok := decodeInt(raw); !ok {
			fe.add("ssh_key_id", msgInteger)
		} else if id <= 0 {
			fe.add("ssh_key_id", msgPositive)
		} else {
			req.sshKeyID = &id
		}
	}
	if raw, ok := obj["backups_enabled"]; ok && !isNull(raw) {
		if b, ok := decodeBool(raw); ok {
			req.backups = b
		} else {
			fe.add("backups_enabled", msgBoolean)
		}
	}
	return req, fe
}

func checkLocation(loc string, cat catalog) string {
	if loc == "" {
		return msgBlank
	}
	if !cat.knownLocation(loc) {
		return fmt.Sprintf("Unknown location %q; valid locations are %s.", loc, strings.Join(cat.locations, ", "))
	}
	return ""
}

func requiredString(obj jsonObject, fe fieldErrors, key string) (string, bool) {
	raw, ok := obj[key]
	switch {
	case !ok:
		fe.add(key, msgRequired)
	case isNull(raw):
		fe.add(key, msgNull)
	default:
		if s, ok := decodeString(raw); ok {
			return s, true
		}
		fe.add(key, msgString)
	}
	return "", false
}

func requiredInt(obj jsonObject, fe fieldErrors, key string) (int64, bool) {
	raw, ok := obj[key]
	switch {
	case !ok:
		fe.add(key, msgRequired)
	case isNull(raw):
		fe.add(key, msgNull)
	default:
		if n, ok := decodeInt(raw); ok {
			return n, true
		}
		fe.add(key, msgInteger)
	}
	return 0, false
}

// updateRequest is a validated PUT or PATCH body: nil or false means "leave
// unchanged". Plan, OS and location cannot change and are ignored if sent.
type updateRequest struct {
	name        *string
	setHostname bool
	hostname    *string // nil with setHostname clears it
	backups     *bool
}

// parseUpdate validates a PUT (all three fields required) or PATCH (only the
// fields sent) body. A null hostname clears it in both.
func parseUpdate(obj jsonObject, put bool) (updateRequest, fieldErrors) {
	var req updateRequest
	fe := fieldErrors{}

	if raw, ok := obj["name"]; !ok {
		if put {
			fe.add("name", msgRequired)
		}
	} else if isNull(raw) {
		fe.add("name", msgNull)
	} else if name, ok := decodeString(raw); !ok {
		fe.add("name", msgString)
	} else if msg := checkName(name); msg != "" {
		fe.add("name", msg)
	} else {
		req.name = &name
	}

	if raw, ok := obj["hostname"]; !ok {
		if put {
			fe.add("hostname", msgRequired)
		}
	} else if isNull(raw) {
		req.setHostname = true
	} else if h, ok := decodeString(raw); !ok {
		fe.add("hostname", msgString)
	} else if msg := checkHostname(h); msg != "" {
		fe.add("hostname", msg)
	} else {
		req.setHostname, req.hostname = true, &h
	}

	if raw, ok := obj["backups_enabled"]; !ok {
		if put {
			fe.add("backups_enabled", msgRequired)
		}
	} else if isNull(raw) {
		fe.add("backups_enabled", msgNull)
	} else if b, ok := decodeBool(raw); !ok {
		fe.add("backups_enabled", msgBoolean)
	} else {
		req.backups = &b
	}
	return req, fe
}

// fieldErrorText flattens field errors into one sentence for Go errors.
func fieldErrorText(fe fieldErrors) string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+strings.Join(fe[k], " "))
	}
	return strings.Join(parts, "; ")
}
