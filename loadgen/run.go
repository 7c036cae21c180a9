package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Run runs the load cfg describes in this process and returns its report;
// progress lines go to cfg.Out as it runs. It returns when the run is over
// or ctx ends (the report then covers what was measured).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e, err := newEngine(cfg)
	if err != nil {
		return nil, err
	}
	r := newReporter(cfg)
	r.begin()
	windows := make(chan Snapshot, 1)
	finished := make(chan struct{})
	var atEnd Snapshot
	go func() {
		e.run(ctx, func(w Snapshot) {
			atEnd = e.snapshot()
			windows <- w
		})
		close(finished)
	}()
	window := r.follow([]func() Snapshot{e.snapshot}, windows, finished)
	rep := r.finish(window)
	// What went wrong while the chats were ended and the clients let go is
	// not part of the window, but it is worth knowing.
	if drain := e.snapshot().Sub(atEnd); drain.ErrorCount() > 0 {
		fmt.Fprintf(cfg.Out, "  after the window (ending the chats): %d errors %v\n", drain.ErrorCount(), drain.Errors)
	}
	return rep, nil
}

func newEngine(cfg Config) (*engine, error) {
	u, _ := url.Parse(cfg.URL)
	from, to := cfg.share(cfg.Customers)
	afrom, ato := cfg.share(cfg.Agents)
	conns := to - from + 3*(ato-afrom)
	if cfg.Profile == ProfileChat {
		conns += to - from // a poll and a send at once
	}
	addrs, err := sourceAddresses(u, conns*cfg.workers, cfg.SourceIPs)
	if err != nil {
		return nil, err
	}
	tr := newTransport(addrs, conns+64)
	return &engine{cfg: cfg, hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}, stats: newStats()}, nil
}

func (e *engine) snapshot() Snapshot { return e.stats.snapshot(time.Since(e.start)) }

// run plays this engine's customers and agents through the run's phases:
// agents log in, customers start over the ramp-up, the measured window
// runs for Duration, then sending stops, chats end and everything is let
// go. The window, what happened between the end of the ramp-up and the end
// of sending, is given to measured as soon as it is over.
func (e *engine) run(ctx context.Context, measured func(Snapshot)) {
	e.start = time.Now()
	cfg := e.cfg
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	sending, stopSending := context.WithCancel(runCtx)
	defer stopSending()
	e.sending = sending

	var agents, customers sync.WaitGroup
	afrom, ato := cfg.share(cfg.Agents)
	for n := afrom; n < ato; n++ {
		agents.Go(func() { e.runAgent(runCtx, n+1) })
	}
	// Customers start once the agents are ready, or have had their time.
	deadline := time.Now().Add(30 * time.Second)
	for e.stats.agentsReady.Load() < int64(ato-afrom) && time.Now().Before(deadline) && ctx.Err() == nil {
		sleep(ctx, 50*time.Millisecond)
	}
	from, to := cfg.share(cfg.Customers)
	count := to - from
	rampStart := time.Now()
	go func() {
		for i := from; i < to; i++ {
			if count > 1 {
				at := rampStart.Add(time.Duration(int64(cfg.Ramp) * int64(i-from) / int64(count)))
				if !sleep(runCtx, time.Until(at)) {
					return
				}
			}
			customers.Go(func() { e.runCustomer(runCtx, i) })
		}
	}()
	sleep(ctx, time.Until(rampStart.Add(cfg.Ramp)))
	base := e.snapshot()
	sleep(ctx, cfg.Duration)
	measured(e.snapshot().Sub(base))
	stopSending()

	// Drain: customers end their chats and see the end; agents' streams
	// follow until the customers are done.
	drained := make(chan struct{})
	go func() { customers.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(60 * time.Second):
	case <-ctx.Done():
	}
	stopRun()
	customers.Wait()
	agents.Wait()
}
