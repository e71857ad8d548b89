package switchboard

import (
	"errors"
	"fmt"
)

// Error codes. The first eight are the v3 API's documented codes; the others cover HTTP
// situations the seed does not name but a client still needs told apart.
const (
	EBADREQUEST   = "BAD_REQUEST"         // 400: invalid parameters or malformed request
	EAUTHREQUIRED = "AUTH_REQUIRED"       // 401: no credentials, or credentials not usable from here
	EAUTHINVALID  = "AUTH_INVALID"        // 403: invalid key or insufficient permissions
	ENOTFOUND     = "NOT_FOUND"           // 404
	ERATELIMITED  = "RATE_LIMITED"        // 429
	EINTERNAL     = "INTERNAL_ERROR"      // 500
	EUNAVAILABLE  = "SERVICE_UNAVAILABLE" // 503: a capability is not configured or not running
	ECONFLICT     = "CONFLICT"            // 409: unique value already taken (extension, number, SIP username)
	EMETHOD       = "METHOD_NOT_ALLOWED"  // 405
	ETOOLARGE     = "PAYLOAD_TOO_LARGE"   // 413
)

// Error is the one error type of the domain. Code says what kind of failure it is (and so
// which HTTP status the API answers with); Message is written for the person reading it
// and says what to do next; Details names bad fields (field -> problem).
type Error struct {
	Code    string
	Message string
	Details map[string]string
	Op      string // the operation that failed, for logs
	Err     error  // the underlying cause, for logs; never shown to API clients
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Op != "" {
		msg = e.Op + ": " + msg
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: the Code of an *Error in its chain, EINTERNAL for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err; internal errors get a generic one so
// that nothing about the server's insides leaks to a client.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "Internal server error - please try again"
}

// ValidationErrors collects per-field problems and becomes one BAD_REQUEST error.
type ValidationErrors map[string]string

// Add records a problem with field, keeping the first one reported.
func (v ValidationErrors) Add(field, problem string) {
	if _, ok := v[field]; !ok {
		v[field] = problem
	}
}

// Err returns nil when there are no problems, otherwise a BAD_REQUEST *Error naming them.
func (v ValidationErrors) Err() error {
	if len(v) == 0 {
		return nil
	}
	return &Error{Code: EBADREQUEST, Message: "Some fields are invalid; see details", Details: map[string]string(v)}
}

// FieldError is the error of one bad field: code (usually EBADREQUEST or ECONFLICT), the
// field's API name and the problem, read as "The <field> <problem>". Every layer builds
// single-field errors with it rather than by hand.
func FieldError(code, field, problem string) *Error {
	return &Error{Code: code, Message: "The " + field + " " + problem, Details: map[string]string{field: problem}}
}
