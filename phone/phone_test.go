package phone

import "testing"

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"+15551234567", "+15551234567", true}, // the documents' fictional 555 numbers are accepted
		{"+1555123", "", false},
		{"+14155552671", "+14155552671", true},
		{"(415) 555-2671", "+14155552671", true},
		{"4155552671", "+14155552671", true},
		{"61288880000", "+61288880000", true}, // international without +, as Voice Over Cloud writes
		{"+442071838750", "+442071838750", true},
		{"1001", "", false},
		{"hello", "", false},
		{"", "", false},
	} {
		got, ok := Normalize(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
