package prompt

import (
	"os"
	"strings"
	"testing"
)

// docs/prompts.md lists every system prompt of the catalog with its English text.
func TestDocsListEverySystemPrompt(t *testing.T) {
	doc, err := os.ReadFile("../docs/prompts.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Catalog() {
		if strings.HasPrefix(p.Name, "digit-") {
			continue // listed as one row
		}
		if !strings.Contains(string(doc), "| `"+p.Name+"` | "+p.Tone+" | "+p.Texts["en"]+" |") {
			t.Errorf("docs/prompts.md lacks the row of %s", p.Name)
		}
	}
}
