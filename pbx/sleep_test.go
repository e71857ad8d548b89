package pbx

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"switchboard/internal/tstest"
)

// sleepUntil is how queue callers wait on the engine's clock: it looks at the clock every
// QueuePoll and whenever the queues are kicked. synctest's bubble runs the poll timers on
// virtual time, so hours of polling take no real time.

// sleeping starts sleepUntil(ctx, deadline) on e and returns a function that reports, once
// every goroutine of the bubble is blocked, whether it has returned and what.
func sleeping(ctx context.Context, e *Engine, deadline time.Time) (result func() (returned, reached bool)) {
	woke := make(chan bool, 1)
	go func() { woke <- e.sleepUntil(ctx, deadline) }()
	return func() (bool, bool) {
		synctest.Wait()
		select {
		case reached := <-woke:
			return true, reached
		default:
			return false, false
		}
	}
}

func TestSleepUntilFollowsTheEngineClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := tstest.NewClock(time.Time{})
		e := &Engine{cfg: Config{QueuePoll: 100 * time.Millisecond}, now: clk.Now, queues: newQueueManager()}
		result := sleeping(context.Background(), e, clk.Now().Add(30*time.Second))
		time.Sleep(time.Hour) // an hour of polls, none of which sees the engine's clock move
		if returned, _ := result(); returned {
			t.Fatal("sleepUntil returned before the engine's clock reached the deadline")
		}
		clk.Advance(30 * time.Second)
		time.Sleep(e.cfg.QueuePoll) // the next poll sees it
		if returned, reached := result(); !returned || !reached {
			t.Fatalf("at the first poll after the deadline: returned %v, deadline reached %v; want both", returned, reached)
		}
	})
}

func TestSleepUntilWakesAtAKickAndEndsWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := tstest.NewClock(time.Time{})
		e := &Engine{cfg: Config{QueuePoll: time.Hour}, now: clk.Now, queues: newQueueManager()}
		result := sleeping(context.Background(), e, clk.Now().Add(time.Second))
		synctest.Wait()
		clk.Advance(time.Second)
		e.queues.kickAll() // an agent became free: look again now, not at the next poll
		if returned, reached := result(); !returned || !reached {
			t.Fatalf("after a kick past the deadline: returned %v, deadline reached %v; want both", returned, reached)
		}

		ctx, cancel := context.WithCancel(context.Background())
		result = sleeping(ctx, e, clk.Now().Add(time.Minute))
		synctest.Wait()
		cancel()
		if returned, reached := result(); !returned || reached {
			t.Fatalf("after its context ended: returned %v, deadline reached %v; want returned, not reached", returned, reached)
		}
	})
}
