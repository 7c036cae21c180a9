// Package loadgen is Parley's load generator (parley loadgen): simulated
// customers that behave like the mobile SDKs on the customer API and
// simulated agents on the agent API, against any Parley URL, with a
// progress line while it runs and a report at the end: concurrent sessions,
// messages per second, end-to-end delivery latency both ways, errors by
// code and the server's memory when it runs on this machine.
//
// It speaks to the server only through package client, as any app would,
// and imports none of the server's packages: what it measures is what
// clients see.
//
// Two profiles:
//   - chat: each customer requests a chat, long-polls without pause,
//     and once an agent has joined sends messages with a think time
//     (typing before each, delivered and read receipts for each answer);
//     each agent logs in, goes ready, accepts the chats offered on its
//     WebSocket stream and answers every customer message. Each message
//     carries its send time, so that the side receiving it measures the
//     end-to-end delivery latency.
//   - waiting: customers request a chat and only hold long polls, no
//     agent; the report gives the server's memory per waiting customer.
package loadgen

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"
)

// Profiles of a run.
const (
	ProfileChat    = "chat"
	ProfileWaiting = "waiting"
)

// Config describes a run.
type Config struct {
	URL string // base URL of the server, e.g. http://127.0.0.1:8080
	// AgentURL is the node agents use; default URL. Pointing it at another
	// node of a scaled-out deployment makes every message cross the bus.
	AgentURL  string
	Profile   string        // ProfileChat (default) or ProfileWaiting
	Customers int           // simulated customers
	Agents    int           // simulated agents (chat profile)
	Duration  time.Duration // measured time, after the ramp-up
	Ramp      time.Duration // customers start evenly spread over it
	// Think is the mean pause between two messages of a customer
	// (exponentially distributed, as independent people are). Rate, when
	// above zero, replaces it: messages per second of all customers
	// together; agents answer each, so the server accepts twice as many.
	Think time.Duration
	Rate  float64
	// AgentThink is the pause before an agent answers a message.
	AgentThink time.Duration
	Typing     bool // customers send chat_session_typing before each message
	Receipts   bool // customers send delivered and read for each answer

	Tenant        string // tenantUrl customers and agents use
	App           string // appId of the customers' scenario entry
	AgentUser     string // agents log in as <AgentUser><n>, n = 1…Agents
	AgentPassword string
	// EndChats ends every chat when the run is over, so that the next
	// run's agents start with free desks.
	EndChats bool

	Every     time.Duration // progress line interval
	ServerPID int           // the server's process, for its RSS; 0: found by port when local
	SourceIPs int           // loopback source addresses; 0: as many as connections need
	RunID     string        // makes client ids unique; default: the start time

	// Out receives the progress lines and the report; nil: os.Stdout.
	Out io.Writer

	// worker and workers split the run between processes (see Main).
	worker, workers int
}

// withDefaults fills what c leaves out and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Profile == "" {
		c.Profile = ProfileChat
	}
	if c.Profile != ProfileChat && c.Profile != ProfileWaiting {
		return c, fmt.Errorf("profile %q: want %s or %s", c.Profile, ProfileChat, ProfileWaiting)
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("--url %q: want http(s)://host[:port]", c.URL)
	}
	if c.AgentURL == "" {
		c.AgentURL = c.URL
	}
	if u, err := url.Parse(c.AgentURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("--agent-url %q: want http(s)://host[:port]", c.AgentURL)
	}
	if c.Customers < 0 || c.Agents < 0 {
		return c, errors.New("--customers and --agents must not be negative")
	}
	if c.Profile == ProfileWaiting {
		c.Agents = 0
	}
	if c.Profile == ProfileChat && c.Customers > 0 && c.Agents == 0 {
		return c, errors.New("the chat profile needs --agents (see --write-agents)")
	}
	if c.Duration <= 0 {
		c.Duration = 30 * time.Second
	}
	if c.Ramp < 0 {
		c.Ramp = 0
	}
	if c.Rate > 0 && c.Customers > 0 {
		c.Think = time.Duration(float64(c.Customers) / c.Rate * float64(time.Second))
	}
	if c.Think <= 0 {
		c.Think = 5 * time.Second
	}
	if c.Every <= 0 {
		c.Every = 5 * time.Second
	}
	if c.RunID == "" {
		c.RunID = fmt.Sprintf("%x", time.Now().UnixNano()/int64(time.Millisecond)%0xffffffff)
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
	if c.workers <= 0 {
		c.workers, c.worker = 1, 0
	}
	return c, nil
}

// share returns the range [from, to) of n items that this worker runs.
func (c *Config) share(n int) (from, to int) {
	return n * c.worker / c.workers, n * (c.worker + 1) / c.workers
}
