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
func TestSleepUntilFollowsTheEngineClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := tstest.NewClock(time.Time{})
		e := &Engine{cfg: Config{QueuePoll: 100 * time.Millisecond}, now: clk.Now, queues: newQueueManager()}
		woke := make(chan bool, 1)
		go func() { woke <- e.sleepUntil(context.Background(), clk.Now().Add(30*time.Second)) }()

		time.Sleep(time.Hour) // an hour of polls, none of which sees the engine's clock move
		synctest.Wait()
		select {
		case <-woke:
			t.Fatal("sleepUntil returned before the engine's clock reached the deadline")
		default:
		}
		clk.Advance(30 * time.Second)
		time.Sleep(e.cfg.QueuePoll) // the next poll sees it
		synctest.Wait()
		select {
		case ok := <-woke:
			if !ok {
				t.Fatal("sleepUntil reported its context done; want the deadline reached")
			}
		default:
			t.Fatal("sleepUntil did not return at the first poll after the deadline")
		}
	})
}

func TestSleepUntilWakesAtAKickAndEndsWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := tstest.NewClock(time.Time{})
		e := &Engine{cfg: Config{QueuePoll: time.Hour}, now: clk.Now, queues: newQueueManager()}
		woke := make(chan bool, 1)
		go func() { woke <- e.sleepUntil(context.Background(), clk.Now().Add(time.Second)) }()
		synctest.Wait()
		clk.Advance(time.Second)
		e.queues.kickAll() // an agent became free: look again now, not at the next poll
		synctest.Wait()
		select {
		case ok := <-woke:
			if !ok {
				t.Fatal("sleepUntil reported its context done; want the deadline reached")
			}
		default:
			t.Fatal("a kick did not make sleepUntil look at the clock")
		}

		ctx, cancel := context.WithCancel(context.Background())
		go func() { woke <- e.sleepUntil(ctx, clk.Now().Add(time.Minute)) }()
		synctest.Wait()
		cancel()
		synctest.Wait()
		if ok := <-woke; ok {
			t.Fatal("sleepUntil reported the deadline reached; want its context done")
		}
	})
}
