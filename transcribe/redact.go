package transcribe

import (
	"math/big"
	"regexp"
	"strings"
)

// Redaction masks, in the text that is stored and sent.
const (
	maskCard  = "[CARD]"
	maskID    = "[NATIONAL_ID]"
	maskBank  = "[BANK_ACCOUNT]"
	maskEmail = "[EMAIL]"
)

// Redact masks personal data in text and returns the text and how many things it masked:
//   - card numbers: runs of 13-19 digits, keyed ("4111 1111-1111 1111") or spoken ("four one
//     one one …", "oh" for zero, "double five"), that pass the Luhn check;
//   - national ids: US social security numbers (123-45-6789) and UK National Insurance
//     numbers (QQ 12 34 56 C);
//   - bank accounts: IBANs that pass their mod-97 check, UK sort codes (12-34-56), and any
//     other run of 8 to 17 digits spoken or keyed within a few words after "account",
//     "routing" or "bank";
//   - emails, written (jo@example.com) or spoken ("jo at example dot com").
//
// Masking happens before a transcript is stored or sent, so the clear text exists only in
// the worker's memory while it runs.
func Redact(text string) (string, int) {
	n := 0
	for _, r := range patternRules {
		text = r.re.ReplaceAllStringFunc(text, func(m string) string {
			if r.check != nil && !r.check(m) {
				return m
			}
			n++
			return r.mask
		})
	}
	text, k := redactDigitRuns(text)
	return text, n + k
}

type patternRule struct {
	re    *regexp.Regexp
	check func(string) bool
	mask  string
}

var patternRules = []patternRule{
	{re: regexp.MustCompile(`(?i)\b[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}\b`), mask: maskEmail},
	{re: regexp.MustCompile(`(?i)\b[a-z0-9._-]+ at [a-z0-9-]+(?: dot [a-z0-9-]+)* dot (?:com|org|net|edu|gov|io|co|uk|de|fr|info|biz)\b`), mask: maskEmail},
	{re: regexp.MustCompile(`(?i)\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b`), check: validIBAN, mask: maskBank},
	{re: regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`), mask: maskID},
	{re: regexp.MustCompile(`(?i)\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b`), mask: maskID},
	{re: regexp.MustCompile(`\b\d{2}-\d{2}-\d{2}\b`), mask: maskBank},
}

// validIBAN checks an IBAN's mod-97 checksum (ISO 13616).
func validIBAN(s string) bool {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	var digits strings.Builder
	for _, c := range s[4:] + s[:4] {
		switch {
		case c >= '0' && c <= '9':
			digits.WriteRune(c)
		case c >= 'A' && c <= 'Z':
			digits.WriteString(big.NewInt(int64(c - 'A' + 10)).String())
		default:
			return false
		}
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

// luhn reports whether the digits pass the Luhn check of card numbers.
func luhn(digits string) bool {
	sum, double := 0, false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

var digitWords = map[string]string{"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3",
	"four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}

// token is one word of the text with its byte span.
type token struct {
	start, end int
	word       string
}

var wordRe = regexp.MustCompile(`[A-Za-z]+|\d+`)

// redactDigitRuns finds runs of digits, keyed or spoken, joined only by spaces, hyphens,
// commas or dots, and masks those that are card numbers or bank accounts.
func redactDigitRuns(text string) (string, int) {
	var toks []token
	for _, m := range wordRe.FindAllStringIndex(text, -1) {
		toks = append(toks, token{m[0], m[1], strings.ToLower(text[m[0]:m[1]])})
	}
	type span struct {
		start, end int
		mask       string
	}
	var spans []span
	for i := 0; i < len(toks); {
		digits, j := "", i
		for j < len(toks) {
			if j > i && strings.Trim(text[toks[j-1].end:toks[j].start], " -,.") != "" {
				break // something other than a separator between them
			}
			w := toks[j].word
			if d, ok := digitWords[w]; ok && !(w == "o" && digits == "") {
				digits += d
			} else if (w == "double" || w == "triple") && j+1 < len(toks) && digitWords[toks[j+1].word] != "" {
				d := digitWords[toks[j+1].word]
				digits += strings.Repeat(d, map[string]int{"double": 2, "triple": 3}[w])
				j++
			} else if w[0] >= '0' && w[0] <= '9' {
				digits += w
			} else {
				break
			}
			j++
		}
		if j == i {
			i++
			continue
		}
		mask := ""
		switch {
		case len(digits) >= 13 && len(digits) <= 19 && luhn(digits):
			mask = maskCard
		case len(digits) >= 8 && len(digits) <= 17 && accountContext(text[max(0, toks[i].start-40):toks[i].start]):
			mask = maskBank
		}
		if mask != "" {
			spans = append(spans, span{toks[i].start, toks[j-1].end, mask})
		}
		i = j
	}
	for k := len(spans) - 1; k >= 0; k-- {
		s := spans[k]
		text = text[:s.start] + s.mask + text[s.end:]
	}
	return text, len(spans)
}

var accountWords = regexp.MustCompile(`(?i)\b(account|acct|routing|bank|sort code)\b`)

func accountContext(before string) bool { return accountWords.MatchString(before) }
