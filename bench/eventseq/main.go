// Command eventseq measures what migration 00028 costs the storing of events on PostgreSQL:
// the seq is drawn by a trigger after the transaction has its id (so that a follower of the
// event table can tell when no smaller seq can still commit), where it was drawn by the
// column's default before. W goroutines store events, one per transaction (AppendEvents, the
// store's own path with its webhook fan-out), for S seconds, on two schemas of the same
// database in the same run, alternating, R rounds:
//
//   - 00028: the schema as migrated;
//   - baseline: the same schema with the trigger dropped and the seq drawn from the same
//     sequence by the column default, as before 00028.
//
// Then, on the migrated schema, the cost of reading: K times an event is stored and read back,
// timed, by a follower (FollowEvents: Next until it returns the event, the live stream's
// reader) and by ListEvents after the last seq (the plain read, which may pass over a seq).
//
// It writes the medians and their ratios into docs/benchmarks.md between the event-seq markers.
//
//	go run ./bench/eventseq [-url postgres://…] [-writers 8] [-seconds 5] [-rounds 3] [-write docs/benchmarks.md]
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchboard"
	"switchboard/bench/internal/benchdoc"
	"switchboard/store"
)

const (
	markStart = "<!-- event-seq:start -->"
	markEnd   = "<!-- event-seq:end -->"
)

func main() {
	dsn := flag.String("url", envOr("SWITCHBOARD_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"), "PostgreSQL database (two schemas are created in it and dropped)")
	writers := flag.Int("writers", 8, "concurrent writers")
	seconds := flag.Int("seconds", 5, "length of each measured run")
	rounds := flag.Int("rounds", 3, "runs of each variant, alternating")
	reads := flag.Int("reads", 300, "events stored and read back one at a time, per reader")
	write := flag.String("write", "", "write the results into this markdown file (e.g. docs/benchmarks.md)")
	flag.Parse()
	if err := run(*dsn, *writers, time.Duration(*seconds)*time.Second, *rounds, *reads, *write); err != nil {
		log.Fatal(err)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// variant is one schema under test.
type variant struct {
	name  string
	db    *store.DB
	rates []float64 // events per second, one per round
}

func run(dsn string, writers int, d time.Duration, rounds, reads int, write string) error {
	ctx := context.Background()
	load, _ := os.ReadFile("/proc/loadavg")
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer admin.Close()
	var drops []func()
	defer func() {
		for _, drop := range slices.Backward(drops) {
			drop()
		}
	}()
	current, err := openSchema(ctx, admin, dsn, "", &drops)
	if err != nil {
		return err
	}
	baseline, err := openSchema(ctx, admin, dsn, `DROP TRIGGER events_take_seq ON events;
		ALTER TABLE events ALTER COLUMN seq SET DEFAULT nextval('events_seq')`, &drops)
	if err != nil {
		return err
	}
	vs := []*variant{{name: "00028 (seq after the transaction id)", db: current}, {name: "baseline (seq by column default)", db: baseline}}
	for r := range rounds {
		for _, v := range vs {
			rate, err := measure(ctx, v.db, writers, d)
			if err != nil {
				return fmt.Errorf("%s: %w", v.name, err)
			}
			v.rates = append(v.rates, rate)
			fmt.Printf("round %d  %-40s %8.0f events/s\n", r+1, v.name, rate)
		}
	}
	ratio := median(vs[0].rates) / median(vs[1].rates)
	fmt.Printf("ratio 00028 / baseline: %.2f\n", ratio)
	rd, err := measureReads(ctx, current, reads)
	if err != nil {
		return err
	}
	fmt.Printf("reading a new event: follower %v, ListEvents %v (medians of %d)\n", rd.follow, rd.list, reads)
	if write == "" {
		return nil
	}
	cmd := fmt.Sprintf("go run ./bench/eventseq -writers %d -seconds %d -rounds %d -reads %d -write %s", writers, int(d.Seconds()), rounds, reads, write)
	return writeSection(write, cmd, strings.Fields(string(load)), writers, int(d.Seconds()), vs, ratio, rd, reads)
}

// readCost is the median time to read one newly stored event back.
type readCost struct{ follow, list time.Duration }

// measureReads stores n events one at a time and reads each back with a follower and with
// ListEvents, timing the reads only.
func measureReads(ctx context.Context, db *store.DB, n int) (readCost, error) {
	const account = 62 // no other writer
	latest, err := db.LatestEventSeq(ctx, account)
	if err != nil {
		return readCost{}, err
	}
	follow := db.FollowEvents(account, latest)
	var followTimes, listTimes []float64
	for range n {
		ev := switchboard.NewEvent(account, switchboard.EventSMSSent, nil)
		if err := db.AppendEvents(ctx, ev); err != nil {
			return readCost{}, err
		}
		start := time.Now()
		for got := false; !got; {
			evs, err := follow.Next(ctx, 1000)
			if err != nil {
				return readCost{}, err
			}
			got = len(evs) > 0 && evs[len(evs)-1].Seq == ev.Seq
		}
		followTimes = append(followTimes, float64(time.Since(start)))
		start = time.Now()
		if _, err := db.ListEvents(ctx, account, ev.Seq-1, 1000); err != nil {
			return readCost{}, err
		}
		listTimes = append(listTimes, float64(time.Since(start)))
	}
	return readCost{follow: time.Duration(median(followTimes)), list: time.Duration(median(listTimes))}, nil
}

// openSchema creates a schema, migrates a store in it and runs alter there; drops holds what
// drops the schema (run does it on its way out: the bench leaves nothing behind).
func openSchema(ctx context.Context, admin *sql.DB, dsn, alter string, drops *[]func()) (*store.DB, error) {
	b := make([]byte, 6)
	rand.Read(b)
	schema := "bench_eventseq_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, err
	}
	*drops = append(*drops, func() { admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := store.Open(ctx, u.String())
	if err != nil {
		return nil, err
	}
	*drops = append(*drops, func() { db.Close() }) // before the schema's drop: they run last first
	if err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	if alter != "" {
		if _, err := admin.ExecContext(ctx, "SET search_path = "+schema+"; "+alter); err != nil {
			return nil, err
		}
	}
	return db, nil
}

// measure stores events with n writers for d and returns the events stored per second.
func measure(ctx context.Context, db *store.DB, n int, d time.Duration) (float64, error) {
	var stored atomic.Int64
	var firstErr error
	var once sync.Once
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			for time.Now().Before(stop) {
				ev := switchboard.NewEvent(61, switchboard.EventSMSSent, map[string]any{"writer": w})
				if err := db.AppendEvents(ctx, ev); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				stored.Add(1)
			}
		})
	}
	start := time.Now()
	wg.Wait()
	return float64(stored.Load()) / time.Since(start).Seconds(), firstErr
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func writeSection(path, cmd string, load []string, writers, seconds int, vs []*variant, ratio float64, rd readCost, reads int) error {
	loadAvg := "?"
	if len(load) >= 3 {
		loadAvg = strings.Join(load[:3], " ")
	}
	var rows strings.Builder
	for _, v := range vs {
		var each []string
		for _, r := range v.rates {
			each = append(each, strconv.FormatFloat(r, 'f', 0, 64))
		}
		fmt.Fprintf(&rows, "| %s | **%.0f** | %s |\n", v.name, median(v.rates), strings.Join(each, ", "))
	}
	section := fmt.Sprintf(`%s
## Storing events on PostgreSQL: the seq after the transaction id (migration 00028)

Measured %s on this machine (%d cores, %s; load average %s at the start, other work was
running on the shared cores, and on the same PostgreSQL). %d goroutines store events, one per
transaction, through the store (AppendEvents, with its webhook fan-out query), for %d s per
run, on two schemas of the same database, alternating; the median of the runs.
Command: `+"`%s`"+`

- **00028**: the schema as migrated: a trigger takes the transaction's id, then the seq, so
  that the live stream can tell when no smaller seq can still commit (docs/events-stream.md).
- **baseline**: the same schema with the trigger dropped and the seq drawn from the same
  sequence by the column default, as before 00028.

| schema | events/s (median) | each run |
|---|---|---|
%s| **ratio 00028 / baseline** | **%.2f** | |

Each event is a transaction of its own, so both are bound by the commit (the WAL flush), and
runs vary by tens of percent with the other work on the machine: a ratio near 1 says the
trigger costs less than that noise.

Reading, on the migrated schema: %d times an event is stored, then read back (timed) by the
live stream's follower (FollowEvents: its Next until it returns the event — three statements
per batch, and a wait for the write transactions running when it looked, on the whole server)
and by a plain read of the events after the last seq (ListEvents, one statement).

| reader | one new event (median) |
|---|---|
| follower (FollowEvents) | **%s** |
| plain read (ListEvents) | %s |
| **ratio follower / plain read** | **%.1f** |
%s`, markStart, time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.Version(), loadAvg,
		writers, seconds, cmd, rows.String(), ratio, reads, rd.follow.Round(time.Microsecond), rd.list.Round(time.Microsecond),
		float64(rd.follow)/float64(rd.list), markEnd)
	return benchdoc.WriteSection(path, markStart, markEnd, section)
}
