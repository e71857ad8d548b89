// Package benchdoc writes a benchmark's figures into docs/benchmarks.md.
package benchdoc

import (
	"os"
	"strings"
)

// WriteSection puts section, which begins with the start marker and ends with the end
// marker (HTML comments), into the markdown file at path: in place of the text between the
// markers (and the line end after them) when the file has them, else at its end. Every other
// section stays as it is.
func WriteSection(path, startMarker, endMarker, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(old)
	if text == "" {
		text = "# Benchmarks\n\n"
	}
	if !strings.HasSuffix(section, "\n") {
		section += "\n"
	}
	start, end := strings.Index(text, startMarker), strings.Index(text, endMarker)
	if start >= 0 && end > start {
		end += len(endMarker)
		if end < len(text) && text[end] == '\n' {
			end++
		}
		text = text[:start] + section + text[end:]
	} else {
		text = strings.TrimRight(text, "\n") + "\n\n" + section
	}
	return os.WriteFile(path, []byte(text), 0o644)
}
