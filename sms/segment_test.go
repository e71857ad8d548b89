package sms

import (
	"strings"
	"testing"

	"switchboard"
)

func TestCountBody(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       Count
	}{
		{"plain", "Hello from Voice360!", Count{GSM7, 20, 1}},
		{"160 GSM-7 is one part", strings.Repeat("a", 160), Count{GSM7, 160, 1}},
		{"161 GSM-7 is two parts of 153", strings.Repeat("a", 161), Count{GSM7, 161, 2}},
		{"306 GSM-7 fills two parts", strings.Repeat("a", 306), Count{GSM7, 306, 2}},
		{"307 GSM-7 needs three", strings.Repeat("a", 307), Count{GSM7, 307, 3}},
		{"euro and bracket count twice", "€[", Count{GSM7, 4, 1}},
		{"80 euros are 160 septets", strings.Repeat("€", 80), Count{GSM7, 160, 1}},
		{"81 euros", strings.Repeat("€", 81), Count{GSM7, 162, 2}},
		// 306 septets fit two parts of 153 only if the escape of € were split at 152|154.
		{"an escape is not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152), Count{GSM7, 306, 3}},
		{"Greek capitals of the GSM alphabet", "ΔΦΓΛΩΠΨΣΘΞ", Count{GSM7, 10, 1}},
		{"Greek lower case is UCS-2", "γειά σου", Count{UCS2, 8, 1}},
		{"Chinese", "你好世界", Count{UCS2, 4, 1}},
		{"emoji is a surrogate pair", "hi 😀", Count{UCS2, 5, 1}},
		{"70 UCS-2 is one part", strings.Repeat("你", 70), Count{UCS2, 70, 1}},
		{"71 UCS-2 is two parts of 67", strings.Repeat("你", 71), Count{UCS2, 71, 2}},
		{"35 emoji are 70 units", strings.Repeat("😀", 35), Count{UCS2, 70, 1}},
		{"36 emoji: pairs are not split", strings.Repeat("😀", 36), Count{UCS2, 72, 2}},
	} {
		if got := CountBody(tc.body); got != tc.want {
			t.Errorf("%s: CountBody = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestCheckBody(t *testing.T) {
	details := func(err error) string {
		e, ok := err.(*switchboard.Error)
		if !ok || e.Code != switchboard.EBADREQUEST && e.Code != "VALIDATION_ERROR" {
			t.Fatalf("error %v (%T) is not a validation error", err, err)
		}
		return e.Details["message"]
	}
	if _, err := CheckBody(strings.Repeat("a", 160), 0); err != nil {
		t.Fatalf("160 GSM-7: %v", err)
	}
	err := func() error { _, err := CheckBody(strings.Repeat("a", 161), 0); return err }()
	if d := details(err); !strings.Contains(d, "at most 160") || !strings.Contains(d, "not 161") || !strings.Contains(d, "sms_max_parts") {
		t.Errorf("161 chars: %q", d)
	}
	if c, err := CheckBody(strings.Repeat("a", 161), 2); err != nil || c.Segments != 2 {
		t.Errorf("161 with 2 parts allowed: %+v %v", c, err)
	}
	err = func() error { _, err := CheckBody(strings.Repeat("😀", 36), 1); return err }()
	if d := details(err); !strings.Contains(d, "at most 70") {
		t.Errorf("36 emoji: %q", d)
	}
	if d := details(func() error { _, err := CheckBody("", 1); return err }()); d != "is required" {
		t.Errorf("empty: %q", d)
	}
	if d := details(func() error { _, err := CheckBody("a\xffb", 1); return err }()); !strings.Contains(d, "UTF-8") {
		t.Errorf("invalid UTF-8: %q", d)
	}
}
