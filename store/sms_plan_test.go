package store

import (
	"context"
	"strings"
	"testing"
)

// The outbox's claim reads only the rows it takes: SQLite walks the messages_due index in
// order and stops at the limit. A plan that sorts (a temp B-tree) reads the whole backlog on
// every claim, inside the writer's transaction.
func TestDueMessagesQueryWalksTheIndex(t *testing.T) {
	db := openMigrated(t)
	rows, err := db.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+sqlDueMessages, "queued", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "; ")
	if !strings.Contains(text, "USING INDEX messages_due") || strings.Contains(text, "TEMP B-TREE") {
		t.Fatalf("the due-messages query's plan is %q: want it to walk messages_due in order, without sorting", text)
	}
}
