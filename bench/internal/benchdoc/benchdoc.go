// Package benchdoc writes a benchmark's figures into docs/benchmarks.md.
package benchdoc

import (
	"os"
	"strings"
)

// WriteSection puts section, which begins with the start marker and ends with the end
// marker (HTML comments), into the markdown file at path: in place of the text between the
// markers when the file has them, else at its end. Every other section stays as it is.
func WriteSection(path, start, end, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(old)
	if i, j := strings.Index(text, start), strings.Index(text, end); i >= 0 && j > i {
		text = text[:i] + section + text[j+len(end):]
	} else {
		text = strings.TrimRight(text, "\n") + "\n\n" + section + "\n"
	}
	return os.WriteFile(path, []byte(text), 0o644)
}
