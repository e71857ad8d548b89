package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"switchboard"
)

// envelope is the shape of every answer of the API (the seed's "Response Format").
type envelope struct {
	Result    any               `json:"result"`
	Error     bool              `json:"error"`
	Message   string            `json:"message"`
	ErrorCode string            `json:"error_code,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
	Timestamp string            `json:"timestamp"`
}

func (s *Server) timestamp() string { return s.now().UTC().Format(time.RFC3339) }

// writeResult writes a success envelope.
func (s *Server) writeResult(w http.ResponseWriter, status int, message string, result any) {
	writeJSON(w, status, envelope{Result: result, Message: message, Timestamp: s.timestamp()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v) // the client hanging up is the only failure left, and there is no one to tell
}

// statusOfCode is the one mapping from domain error codes to HTTP statuses; any other code
// is a 500.
var statusOfCode = map[string]int{
	switchboard.EBADREQUEST:   http.StatusBadRequest,
	switchboard.EAUTHREQUIRED: http.StatusUnauthorized,
	switchboard.EAUTHINVALID:  http.StatusForbidden,
	switchboard.ENOTFOUND:     http.StatusNotFound,
	switchboard.ECONFLICT:     http.StatusConflict,
	switchboard.EMETHOD:       http.StatusMethodNotAllowed,
	switchboard.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	switchboard.ERATELIMITED:  http.StatusTooManyRequests,
	switchboard.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

// answerOf is what the client is told of err, in whichever envelope: the status, and the
// code, message and details. Internal errors are logged with their cause and answered with
// a generic message; the cause never reaches the client.
func (s *Server) answerOf(r *http.Request, err error) (int, switchboard.Error) {
	code := switchboard.ErrorCode(err)
	status, known := statusOfCode[code]
	if !known {
		status, code = http.StatusInternalServerError, switchboard.EINTERNAL
		s.logger.Error("internal error", "request_id", requestIDOf(r), "method", r.Method, "path", r.URL.Path, "err", err)
	}
	answer := switchboard.Error{Code: code, Message: switchboard.ErrorMessage(err)}
	var e *switchboard.Error
	if errors.As(err, &e) && code != switchboard.EINTERNAL {
		answer.Details = e.Details
	}
	return status, answer
}

// writeError writes the error envelope for err.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, answer := s.answerOf(r, err)
	writeJSON(w, status, envelope{Error: true, Message: answer.Message, ErrorCode: answer.Code, Details: answer.Details,
		Timestamp: s.timestamp()})
}

// maxBodyBytes bounds request bodies; larger ones get 413 PAYLOAD_TOO_LARGE.
const maxBodyBytes = 1 << 20

func badRequest(field, problem string) error {
	return switchboard.FieldError(switchboard.EBADREQUEST, field, problem)
}

// decodeJSON reads the request body as one JSON object into dst. The body must be declared
// application/json (else 400: we answer with the seed's BAD_REQUEST rather than 415, so that
// clients need to handle only the documented codes), at most 1 MiB, well formed, of the
// right types and with no fields dst does not know.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mediaType != "application/json" && !strings.HasSuffix(mediaType, "+json")) {
		return switchboard.Errorf(switchboard.EBADREQUEST, "The request body must be JSON: send Content-Type: application/json")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return switchboard.Errorf(switchboard.EBADREQUEST, "The request body must hold exactly one JSON object, with nothing after it")
	}
	return controlChars(reflect.ValueOf(dst), "")
}

// controlChars refuses a decoded body holding a control character (NUL, ESC, DEL, C1 …) in
// any string, keys of objects included: such text breaks SIP headers, logs and CSV, and
// PostgreSQL cannot store NUL at all. Tab, line feed and carriage return are allowed (an SMS
// may have lines). It is the one check for every JSON body; the error names the field.
func controlChars(v reflect.Value, field string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return controlChars(v.Elem(), field)
		}
	case reflect.String:
		if i := strings.IndexFunc(v.String(), isRefusedControl); i >= 0 {
			return badRequest(field, fmt.Sprintf("must not contain control characters (found %U at byte %d)", []rune(v.String()[i:])[0], i))
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" && !f.Anonymous {
				name = f.Name
			}
			if err := controlChars(v.Field(i), joinField(field, name)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // raw bytes (json.RawMessage): not text
		}
		for i := range v.Len() {
			if err := controlChars(v.Index(i), fmt.Sprintf("%s[%d]", field, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			key := fmt.Sprint(iter.Key().Interface())
			if strings.IndexFunc(key, isRefusedControl) >= 0 {
				return badRequest(field, "must not contain control characters in its keys")
			}
			if err := controlChars(iter.Value(), joinField(field, key)); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinField(parent, name string) string {
	switch {
	case name == "":
		return parent
	case parent == "":
		return name
	}
	return parent + "." + name
}

func isRefusedControl(r rune) bool {
	return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
}

// jsonError turns a decoding failure into a client error that says what is wrong and where.
func jsonError(err error) error {
	var (
		tooLarge  *http.MaxBytesError
		syntax    *json.SyntaxError
		typeError *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return switchboard.Errorf(switchboard.ETOOLARGE, "The request body is larger than %d bytes", maxBodyBytes)
	case errors.Is(err, io.EOF):
		return switchboard.Errorf(switchboard.EBADREQUEST, "The request body is empty; send a JSON object")
	case errors.As(err, &syntax):
		return switchboard.Errorf(switchboard.EBADREQUEST, "The request body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return switchboard.Errorf(switchboard.EBADREQUEST, "The request body is not valid JSON (it ends too early)")
	case errors.As(err, &typeError):
		field := typeError.Field
		if field == "" {
			return switchboard.Errorf(switchboard.EBADREQUEST, "The request body must be a JSON object")
		}
		return badRequest(field, "must be "+jsonTypeName(typeError.Type.String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return badRequest(field, "is not a known field")
	}
	return switchboard.Errorf(switchboard.EBADREQUEST, "The request body could not be read as JSON")
}

func jsonTypeName(goType string) string {
	goType = strings.TrimLeft(goType, "*")
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["):
		return "an object"
	}
	return "an object"
}

// pathID parses the numeric path parameter name ({queue_id} …).
func pathID(r *http.Request, name string) (int64, error) {
	raw := r.PathValue(name)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest(name, "must be a positive integer, not "+strconv.Quote(raw))
	}
	return id, nil
}
