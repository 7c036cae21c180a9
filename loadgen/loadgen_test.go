package loadgen

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/internal/testserver"
)

func TestHistogramQuantilesAreWithinTwoPercent(t *testing.T) {
	t.Parallel()
	var h Histogram
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	s := h.Snapshot()
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.95, 9500 * time.Microsecond}, {0.99, 9900 * time.Microsecond}} {
		got := s.Quantile(tc.q)
		if d := float64(got-tc.want) / float64(tc.want); d < -0.02 || d > 0.02 {
			t.Errorf("p%v = %v, want %v ±2%%", tc.q*100, got, tc.want)
		}
	}
	if s.Max != 10000 || s.N != 10000 {
		t.Errorf("max %d µs over %d values, want 10000 over 10000", s.Max, s.N)
	}
	// A window is a difference of snapshots; a merge is a sum.
	base := s
	for i := 0; i < 100; i++ {
		h.Record(50 * time.Millisecond)
	}
	w := h.Snapshot().Sub(base)
	if w.N != 100 || w.Quantile(0.5) < 49*time.Millisecond || w.Quantile(0.5) > 51*time.Millisecond {
		t.Errorf("window of 100 values of 50ms: n %d, p50 %v", w.N, w.Quantile(0.5))
	}
	if m := base.Add(w); m.N != 10100 {
		t.Errorf("merged n = %d, want 10100", m.N)
	}
	for _, v := range []int64{0, 1, 127, 128, 129, 1000, 123456, 1 << 40} {
		if i := bucketOf(v); bucketValue(i) < v/2 || bucketValue(i) > v*2+1 {
			t.Errorf("value %d: bucket %d stands for %d", v, i, bucketValue(i))
		}
	}
}

func TestMessagesCarryTheirSendTime(t *testing.T) {
	t.Parallel()
	now := time.Unix(1732500000, 123456789)
	got, ok := sentAt(messageText(now))
	if !ok || !got.Equal(now) {
		t.Errorf("sentAt(messageText(%v)) = %v, %v", now, got, ok)
	}
	if _, ok := sentAt("Hi Ann, how can I help?"); ok {
		t.Errorf("a message the load generator did not send has a send time")
	}
}

// startNode runs a node with n load-generator agents.
func startNode(t *testing.T, agents int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agents.yaml")
	cfg := Config{Agents: agents, Tenant: config.DemoTenant, AgentUser: "lg-agent-", AgentPassword: "lg-agent-password"}
	if err := writeAgentsConfig(path, cfg, 100); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if _, err := config.Parse(data); err != nil {
		t.Fatalf("the agents file does not parse: %v\n%s", err, data)
	}
	return testserver.Start(t, testserver.Options{ConfigFile: path, PollTimeout: time.Second})
}

func TestChatProfileTalksBothWaysWithoutErrors(t *testing.T) {
	t.Parallel()
	url := startNode(t, 2)
	var out bytes.Buffer
	rep, err := Run(t.Context(), Config{
		URL: url, Customers: 6, Agents: 2, Duration: 2 * time.Second, Ramp: 300 * time.Millisecond, Think: 100 * time.Millisecond,
		Typing: true, Receipts: true, Tenant: config.DemoTenant, App: config.DemoApp,
		AgentUser: "lg-agent-", AgentPassword: "lg-agent-password", EndChats: true, Every: 500 * time.Millisecond, Out: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	if rep.ErrorCount != 0 {
		t.Errorf("errors: %v", rep.Errors)
	}
	if rep.CustomerMsgs == 0 || rep.AgentMsgs == 0 || rep.Typing == 0 || rep.Receipts == 0 {
		t.Errorf("report = %+v, want messages both ways, typing and receipts", rep)
	}
	if rep.C2A.N == 0 || rep.A2C.N == 0 || rep.C2A.P99 <= 0 || rep.C2A.Max < rep.C2A.P50 {
		t.Errorf("latencies c→a %+v a→c %+v, want measured both ways", rep.C2A, rep.A2C)
	}
	if rep.Sessions != 6 || rep.Connected != 6 {
		t.Errorf("%d sessions, %d connected at the end of the window, want 6 and 6", rep.Sessions, rep.Connected)
	}
	for _, want := range []string{"sessions 6 connected", "| c→a p50 ", " p95 ", " max ", "| errors 0 |", "latency customer→agent", "errors                 none"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestWaitingProfileHoldsAPollPerCustomer(t *testing.T) {
	t.Parallel()
	url := startNode(t, 1)
	var out bytes.Buffer
	rep, err := Run(context.Background(), Config{
		URL: url, Profile: ProfileWaiting, Customers: 20, Duration: 1500 * time.Millisecond, Ramp: 200 * time.Millisecond,
		Tenant: config.DemoTenant, App: config.DemoApp, EndChats: true, Every: time.Second, Out: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ErrorCount != 0 || rep.PollsHeld != 20 || rep.Sessions != 20 {
		t.Errorf("report: %d polls held, %d sessions, errors %v; want 20, 20, none\n%s", rep.PollsHeld, rep.Sessions, rep.Errors, out.String())
	}
	// The node runs in this process: its RSS is this process's, found by
	// its port.
	if rep.ServerPID != os.Getpid() || rep.RSSEndKiB <= 0 {
		t.Errorf("server pid %d, RSS %d KiB; want this process (%d) measured", rep.ServerPID, rep.RSSEndKiB, os.Getpid())
	}
}

func TestConfigChecks(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{
		{URL: "ftp://x"},
		{URL: "http://127.0.0.1:1", Profile: "storm"},
		{URL: "http://127.0.0.1:1", Customers: 5}, // the chat profile needs agents
	} {
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
	c, err := Config{URL: "http://127.0.0.1:1", Customers: 100, Agents: 1, Rate: 50}.withDefaults()
	if err != nil || c.Think != 2*time.Second {
		t.Errorf("100 customers at 50 messages a second: think %v, %v; want 2s", c.Think, err)
	}
}

func TestProgressShowsErrorsByKind(t *testing.T) {
	for _, tc := range []struct {
		errs map[string]int64
		want string
	}{
		{nil, "0"},
		{map[string]int64{"poll: timeout": 0}, "0"},
		{map[string]int64{"send message: 429/5429": 2, "poll: timeout": 5}, "7 (poll: timeout 5, send message: 429/5429 2)"},
		{map[string]int64{"a: 500": 1, "b: 502": 1, "c: EOF": 3, "d: 404/5005": 1, "e: 503": 2},
			"8 (c: EOF 3, e: 503 2, a: 500 1, 2 kinds more)"},
	} {
		if got := errorSummary(tc.errs); got != tc.want {
			t.Errorf("errorSummary(%v) = %q, want %q", tc.errs, got, tc.want)
		}
	}
}
