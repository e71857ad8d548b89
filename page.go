package switchboard

import "strconv"

// Page asks for one page of a list kept in id order: the rows with ids above After (0 =
// from the start), skipping Offset of them, at most Limit (0 = DefaultPageLimit). Offset is
// for shallow paging by page number; After — the last id of the previous page — stays
// cheap and stable however deep the client goes and whatever is created meanwhile.
//
// A list kept in another order (users by extension) pages by its sort key with the id as
// tie-breaker: AfterKey is the key of the previous page's last row and After its id.
type Page struct {
	Limit    int
	Offset   int
	After    int64
	AfterKey string
}

// Page sizes of the provisioning lists (users, devices, queues, contacts …).
const (
	DefaultPageLimit = 1000
	MaxPageLimit     = 1000
)

// Validate checks the page's bounds, naming the query parameters.
func (p Page) Validate() error {
	v := ValidationErrors{}
	if p.Limit < 0 || p.Limit > MaxPageLimit {
		v.Add("limit", "must be between 1 and "+strconv.Itoa(MaxPageLimit))
	}
	if p.Offset < 0 {
		v.Add("offset", "must not be negative")
	}
	if p.After < 0 {
		v.Add("after", "must be an id (a positive integer)")
	}
	return v.Err()
}

// Size is the number of rows the page holds at most.
func (p Page) Size() int {
	if p.Limit <= 0 {
		return DefaultPageLimit
	}
	return p.Limit
}
