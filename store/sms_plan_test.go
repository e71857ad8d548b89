package store

import (
	"context"
	"strings"
	"testing"
)

// The outbox's queries read only the rows they take: SQLite walks the partial index in order
// and stops at the limit. A plan that sorts (a temp B-tree) or scans the table reads every
// message, inside the writer's transaction for the claim.
func TestMessageQueriesWalkTheirIndexes(t *testing.T) {
	db := openMigrated(t)
	for _, c := range []struct {
		name, query, index string
		args               []any
	}{
		{"due messages", sqlDueMessages, "messages_due", []any{"queued", 0, 10}},
		{"messages waiting for a phone", sqlPhonePending, "messages_phone_pending", []any{1, 2}},
	} {
		rows, err := db.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+c.query, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "; ")
		if !strings.Contains(text, "USING INDEX "+c.index) || strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("the plan of the %s is %q: want it to walk %s in order, without sorting", c.name, text, c.index)
		}
	}
}
