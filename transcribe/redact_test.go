package transcribe

import "testing"

func TestRedact(t *testing.T) {
	cases := []struct{ in, want string }{
		{"my card is 4111 1111 1111 1111 thanks", "my card is [CARD] thanks"},
		{"card 4111-1111-1111-1112 is not a card", "card 4111-1111-1111-1112 is not a card"}, // fails Luhn
		{"it's four one one one, one one one one, one one one one, one one one one.", "it's [CARD]."},
		{"four double one one one one one one one one one one one one one one", "[CARD]"},
		{"my social is 123-45-6789", "my social is [NATIONAL_ID]"},
		{"NI number AB 12 34 56 C please", "NI number [NATIONAL_ID] please"},
		{"IBAN GB82 WEST 1234 5698 7654 32 ok", "IBAN [BANK_ACCOUNT] ok"},
		{"IBAN GB82 WEST 1234 5698 7654 33 ok", "IBAN GB82 WEST 1234 5698 7654 33 ok"}, // bad checksum
		{"my account number is one two three four five six seven eight", "my account number is [BANK_ACCOUNT]"},
		{"order number 12345678 arrived", "order number 12345678 arrived"}, // no account context, no Luhn
		{"mail jo.smith@example.com or jo at example dot com", "mail [EMAIL] or [EMAIL]"},
		{"I have one question about two bills", "I have one question about two bills"},
	}
	for _, c := range cases {
		got, n := Redact(c.in)
		if got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
		if (got != c.in) != (n > 0) {
			t.Errorf("Redact(%q) counted %d", c.in, n)
		}
	}
}
