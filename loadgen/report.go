package loadgen

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Report is the outcome of a run, over its measured window (from the end of
// the ramp-up to the end of sending).
type Report struct {
	Profile   string  `json:"profile"`
	URL       string  `json:"url"`
	Customers int     `json:"customers"`
	Agents    int     `json:"agents"`
	Measured  float64 `json:"measured_s"` // length of the window

	// Gauges at the end of the window.
	Sessions  int64 `json:"sessions"`   // customers with a live chat
	Connected int64 `json:"connected"`  // of them, talking to an agent
	PollsHeld int64 `json:"polls_held"` // polls in flight

	CustomerMsgs int64   `json:"customer_msgs"` // accepted ({} answer)
	AgentMsgs    int64   `json:"agent_msgs"`
	MsgsPerSec   float64 `json:"msgs_per_s"` // both directions
	Typing       int64   `json:"typing"`
	Receipts     int64   `json:"receipts"`
	Requests     int64   `json:"requests"`
	ReqPerSec    float64 `json:"requests_per_s"`
	PollAnswers  int64   `json:"poll_answers"`

	C2A Latency `json:"latency_customer_to_agent"`
	A2C Latency `json:"latency_agent_to_customer"`

	Errors     map[string]int64 `json:"errors"`
	ErrorCount int64            `json:"error_count"`

	// The server's memory, when it runs on this machine (0 otherwise):
	// before the first customer, at the end of the window and the most
	// sampled; PerWaitingKiB = (End − Start) / polls held at the end.
	ServerPID     int     `json:"server_pid,omitempty"`
	RSSStartKiB   int64   `json:"rss_start_kib,omitempty"`
	RSSEndKiB     int64   `json:"rss_end_kib,omitempty"`
	RSSPeakKiB    int64   `json:"rss_peak_kib,omitempty"`
	PerWaitingKiB float64 `json:"rss_per_waiting_customer_kib,omitempty"`

	LoadStart float64 `json:"load_average_start"` // 1-minute load average of the machine
	LoadEnd   float64 `json:"load_average_end"`
}

// Latency summarizes a histogram in milliseconds.
type Latency struct {
	N    int64   `json:"n"`
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

func latencyOf(h HistSnapshot) Latency {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return Latency{N: h.N, P50: ms(h.Quantile(0.50)), P95: ms(h.Quantile(0.95)), P99: ms(h.Quantile(0.99)),
		Max: float64(h.Max) / 1000, Mean: ms(h.Mean())}
}

// reporter prints progress while a run goes and its report at the end.
type reporter struct {
	cfg      Config
	out      io.Writer
	pid      int
	start    time.Time
	rssStart int64
	rssPeak  int64
	rssLast  int64
	rssEnd   int64 // at the end of the first window to end
	load0    float64
}

func newReporter(cfg Config) *reporter {
	r := &reporter{cfg: cfg, out: cfg.Out, pid: cfg.ServerPID}
	if r.pid == 0 {
		r.pid = serverPID(cfg.URL)
	}
	return r
}

// begin notes the server's memory and the machine's load before the run.
func (r *reporter) begin() {
	r.start = time.Now()
	r.rssStart = r.rss()
	r.load0 = loadAverage()
	who := fmt.Sprintf("%d customers", r.cfg.Customers)
	if r.cfg.Profile == ProfileChat {
		who += fmt.Sprintf(", %d agents, a message every %v per customer", r.cfg.Agents, r.cfg.Think.Round(time.Millisecond))
	}
	fmt.Fprintf(r.out, "parley loadgen: %s profile, %s, ramp-up %v, measuring %v, against %s\n",
		r.cfg.Profile, who, r.cfg.Ramp, r.cfg.Duration, r.cfg.URL)
	if r.pid != 0 {
		fmt.Fprintf(r.out, "server pid %d, RSS %s before the run; load average %.2f\n", r.pid, kib(r.rssStart), r.load0)
	} else {
		fmt.Fprintf(r.out, "server RSS unknown (not local, or give --server-pid); load average %.2f\n", r.load0)
	}
}

func (r *reporter) rss() int64 {
	if r.pid == 0 {
		return 0
	}
	v, err := rssKiB(r.pid)
	if err != nil {
		return 0
	}
	r.rssPeak = max(r.rssPeak, v)
	r.rssLast = v
	return v
}

// follow prints a progress line every interval from the sum of the
// sources' snapshots until finished is closed, and returns the sum of the
// windows the sources sent on windows as their measured time ended.
func (r *reporter) follow(sources []func() Snapshot, windows <-chan Snapshot, finished <-chan struct{}) Snapshot {
	tick := time.NewTicker(r.cfg.Every)
	defer tick.Stop()
	// The server's memory is sampled more often than progress is shown.
	sample := time.NewTicker(time.Second)
	defer sample.Stop()
	var prev Snapshot
	sum := func() Snapshot {
		var s Snapshot
		for _, src := range sources {
			s = s.Add(src())
		}
		return s
	}
	var window Snapshot
	for {
		select {
		case w := <-windows:
			if r.rssEnd == 0 {
				r.rssEnd = r.rss()
			}
			window = window.Add(w)
		case <-finished:
			for {
				select {
				case w := <-windows:
					window = window.Add(w)
				default:
					return window
				}
			}
		case <-sample.C:
			r.rss()
		case <-tick.C:
			now := sum()
			r.progress(now, prev)
			prev = now
		}
	}
}

// progress prints one line: gauges now, rates and latencies since prev.
func (r *reporter) progress(now, prev Snapshot) {
	d := now.Sub(prev)
	secs := time.Since(r.start).Seconds()
	interval := r.cfg.Every.Seconds()
	var b strings.Builder
	fmt.Fprintf(&b, "[%5.0fs] sessions %d", secs, now.Sessions)
	if r.cfg.Profile == ProfileChat {
		fmt.Fprintf(&b, " connected %d agents %d | msgs %s/s (c %s a %s) req %s/s",
			now.Connected, now.AgentsReady, rate(d.CustomerMsg+d.AgentMsg, interval),
			rate(d.CustomerMsg, interval), rate(d.AgentMsg, interval), rate(d.Requests, interval))
		fmt.Fprintf(&b, " | c→a %s | a→c %s", quantiles(d.C2A), quantiles(d.A2C))
	} else {
		fmt.Fprintf(&b, " polls held %d | req %s/s", now.Polls, rate(d.Requests, interval))
	}
	fmt.Fprintf(&b, " | errors %s", errorSummary(now.Errors))
	if r.rssLast > 0 {
		fmt.Fprintf(&b, " | server RSS %s", kib(r.rssLast))
	}
	fmt.Fprintf(&b, " | load %.1f", loadAverage())
	fmt.Fprintln(r.out, b.String())
}

// finish turns the window into the report and prints it.
func (r *reporter) finish(w Snapshot) *Report {
	secs := w.Elapsed.Seconds()
	rep := &Report{
		Profile: r.cfg.Profile, URL: r.cfg.URL, Customers: r.cfg.Customers, Agents: r.cfg.Agents, Measured: secs,
		Sessions: w.Sessions, Connected: w.Connected, PollsHeld: w.Polls,
		CustomerMsgs: w.CustomerMsg, AgentMsgs: w.AgentMsg, Typing: w.Typing, Receipts: w.Receipts,
		Requests: w.Requests, PollAnswers: w.PollAnswers,
		C2A: latencyOf(w.C2A), A2C: latencyOf(w.A2C),
		Errors: w.Errors, ErrorCount: w.ErrorCount(),
		ServerPID: r.pid, RSSStartKiB: r.rssStart, RSSEndKiB: r.rssEnd, RSSPeakKiB: r.rssPeak,
		LoadStart: r.load0, LoadEnd: loadAverage(),
	}
	if rep.Errors == nil {
		rep.Errors = map[string]int64{}
	}
	if secs > 0 {
		rep.MsgsPerSec = float64(w.CustomerMsg+w.AgentMsg) / secs
		rep.ReqPerSec = float64(w.Requests) / secs
	}
	if rep.Profile == ProfileWaiting && rep.RSSEndKiB > 0 && rep.RSSStartKiB > 0 && w.Polls > 0 {
		rep.PerWaitingKiB = float64(rep.RSSEndKiB-rep.RSSStartKiB) / float64(w.Polls)
	}
	rep.Print(r.out)
	return rep
}

// Print writes the report for people.
func (rep *Report) Print(out io.Writer) {
	p := func(label, format string, args ...any) {
		fmt.Fprintf(out, "  %-22s "+format+"\n", append([]any{label}, args...)...)
	}
	fmt.Fprintf(out, "\nparley loadgen report: %s profile, %d customers, %d agents, %.1f s measured\n",
		rep.Profile, rep.Customers, rep.Agents, rep.Measured)
	p("concurrent sessions", "%d (connected to an agent: %d, polls held: %d)", rep.Sessions, rep.Connected, rep.PollsHeld)
	if rep.Profile == ProfileChat {
		p("messages accepted", "%d = %.1f/s (customers %d, agents %d)", rep.CustomerMsgs+rep.AgentMsgs, rep.MsgsPerSec, rep.CustomerMsgs, rep.AgentMsgs)
		p("other events", "typing %d, receipts %d", rep.Typing, rep.Receipts)
		p("latency customer→agent", "%s", rep.C2A)
		p("latency agent→customer", "%s", rep.A2C)
	}
	p("requests", "%d = %.1f/s (poll answers %d)", rep.Requests, rep.ReqPerSec, rep.PollAnswers)
	if rep.ErrorCount == 0 {
		p("errors", "none")
	} else {
		keys := make([]string, 0, len(rep.Errors))
		for k := range rep.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		p("errors", "%d", rep.ErrorCount)
		for _, k := range keys {
			p("", "%6d  %s", rep.Errors[k], k)
		}
	}
	if rep.ServerPID != 0 {
		p("server RSS", "%s at the end (%s before the run, peak %s)", kib(rep.RSSEndKiB), kib(rep.RSSStartKiB), kib(rep.RSSPeakKiB))
		if rep.PerWaitingKiB > 0 {
			p("per waiting customer", "%.1f KiB ((end − before) / polls held)", rep.PerWaitingKiB)
		}
	}
	p("load average", "%.2f at the start, %.2f at the end", rep.LoadStart, rep.LoadEnd)
}

func (l Latency) String() string {
	if l.N == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms  (%d messages)", l.P50, l.P95, l.P99, l.Max, l.N)
}

// quantiles shows a window's latencies. Its maximum is that of the
// window's highest histogram bucket: an upper bound, within 3 %.
func quantiles(h HistSnapshot) string {
	return fmt.Sprintf("p50 %s p95 %s p99 %s max %s",
		short(h.Quantile(.5)), short(h.Quantile(.95)), short(h.Quantile(.99)), short(time.Duration(h.Max)*time.Microsecond))
}

// errorSummary shows the errors so far by kind, the most frequent first,
// on one line: "0", or "7 (poll: timeout 5, send message: 429/5429 2)".
func errorSummary(errs map[string]int64) string {
	var n int64
	keys := make([]string, 0, len(errs))
	for k, v := range errs {
		n += v
		keys = append(keys, k)
	}
	if n == 0 {
		return "0"
	}
	sort.Slice(keys, func(i, j int) bool {
		if errs[keys[i]] != errs[keys[j]] {
			return errs[keys[i]] > errs[keys[j]]
		}
		return keys[i] < keys[j]
	})
	const shown = 3
	parts := make([]string, 0, shown+1)
	for i, k := range keys {
		if i == shown {
			parts = append(parts, fmt.Sprintf("%d kinds more", len(keys)-shown))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", k, errs[k]))
	}
	return fmt.Sprintf("%d (%s)", n, strings.Join(parts, ", "))
}

func rate(n int64, secs float64) string {
	if secs <= 0 {
		return "0"
	}
	return fmt.Sprintf("%.0f", float64(n)/secs)
}

func short(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	default:
		return d.Round(time.Millisecond).String()
	}
}

func kib(v int64) string {
	if v >= 10*1024 {
		return fmt.Sprintf("%.1f MiB", float64(v)/1024)
	}
	return fmt.Sprintf("%d KiB", v)
}
