package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parley-chat/parley/client"
	"github.com/parley-chat/parley/natsbus/natstest"
	"github.com/parley-chat/parley/postgres/pgtest"
)

// cluster is the nodes of one deployment: `parley serve` processes on
// loopback sharing a schema of the test PostgreSQL (the store) and the test
// NATS server (the bus), each with its own port and data directory, as a
// load balancer or an SDK configured with every address would see them.
// Nodes are numbered from 1. A node keeps its address and data directory
// when it is killed and started again, so clients that know the addresses
// find it again.
type cluster struct {
	t     *testing.T
	nodes []*clusterNode
	// hc carries every client's requests: one pool of connections, large
	// enough that the clients' requests to one node do not keep opening
	// new ones.
	hc *http.Client
}

type clusterNode struct {
	n    int
	url  string
	args []string // every flag of the node: the shared ones, --addr, --data

	mu  sync.Mutex
	srv *server // the process of the moment

	answered atomic.Int64 // requests of the clients the node answered
}

// startCluster starts one node for each entry of order, on a fresh schema
// of the test PostgreSQL and on the test NATS server, with args as the flags
// of every node. The test is skipped when either service cannot be reached
// (it fails when CI is set). Nodes start one after the other in the order
// given, each once the one before answers /readyz: order[0] is the first
// to start, which decides what comes first to a node (such as routing's
// leadership when nodes elect one).
func startCluster(t *testing.T, order []int, args ...string) *cluster {
	t.Helper()
	dsn := pgtest.Schema(t)
	natsURL := natstest.URL(t)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	t.Cleanup(tr.CloseIdleConnections)
	c := &cluster{t: t, nodes: make([]*clusterNode, len(order)), hc: &http.Client{Transport: tr, Timeout: testTimeout}}
	for i := range c.nodes {
		addr := freeAddr(t)
		c.nodes[i] = &clusterNode{
			n:   i + 1,
			url: "http://" + addr,
			args: append(slices.Clone(args), "--store", dsn, "--bus", natsURL,
				"--addr", addr, "--data", t.TempDir()),
		}
	}
	for _, n := range order {
		c.start(n)
	}
	return c
}

func (c *cluster) node(n int) *clusterNode { return c.nodes[n-1] }

// url returns the base URL of node n.
func (c *cluster) url(n int) string { return c.node(n).url }

// start starts node n's process, on its address and data directory.
func (c *cluster) start(n int) {
	c.t.Helper()
	nd := c.node(n)
	srv := startServer(c.t, nd.args...)
	nd.mu.Lock()
	nd.srv = srv
	nd.mu.Unlock()
}

// kill pulls the plug of node n: SIGKILL, no chance to finish anything.
func (c *cluster) kill(n int) {
	c.t.Helper()
	nd := c.node(n)
	nd.mu.Lock()
	srv := nd.srv
	nd.mu.Unlock()
	srv.signal(c.t, syscall.SIGKILL)
	srv.wait(c.t)
}

// live returns the numbers of the nodes whose process runs.
func (c *cluster) live() []int {
	var out []int
	for _, nd := range c.nodes {
		nd.mu.Lock()
		up := nd.srv != nil && !nd.srv.hasExited()
		nd.mu.Unlock()
		if up {
			out = append(out, nd.n)
		}
	}
	return out
}

// leaders returns the live nodes whose /metrics say they make routing's
// decisions (parley_routing_leader 1). A node that does not answer counts
// as not leading.
func (c *cluster) leaders(ctx context.Context) []int {
	var out []int
	for _, n := range c.live() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(n)+"/metrics", nil)
		if err != nil {
			continue
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode == http.StatusOK && slices.Contains(strings.Split(string(body), "\n"), "parley_routing_leader 1") {
			out = append(out, n)
		}
	}
	return out
}

// awaitLeader waits until exactly one live node leads routing, and returns
// it.
func (c *cluster) awaitLeader(ctx context.Context, timeout time.Duration) (int, error) {
	var leaders []int
	err := waitFor(timeout, func() (bool, error) {
		leaders = c.leaders(ctx)
		return len(leaders) == 1, nil
	})
	if err != nil {
		return 0, fmt.Errorf("nodes leading routing: %v, want one: %w", leaders, err)
	}
	return leaders[0], nil
}

// answered returns how many client requests node n has answered, over
// all its processes.
func (c *cluster) answered(n int) int64 { return c.node(n).answered.Load() }

// customer returns a customer's client of every node, by node number - 1.
func (c *cluster) customer(tenant, appID, clientID string) []*client.Client {
	c.t.Helper()
	out := make([]*client.Client, len(c.nodes))
	for i, nd := range c.nodes {
		cl, err := client.New(nd.url, client.WithTenant(tenant), client.WithAppID(appID),
			client.WithClientID(clientID), client.WithHTTPClient(c.hc))
		if err != nil {
			c.t.Fatalf("client of node %d: %v", nd.n, err)
		}
		out[i] = cl
	}
	return out
}

// agent returns an agent's client of every node, by node number - 1. They
// share one login: log in through one and SetToken the others.
func (c *cluster) agent() []*client.Agent {
	c.t.Helper()
	out := make([]*client.Agent, len(c.nodes))
	for i, nd := range c.nodes {
		a, err := client.NewAgent(nd.url, client.WithHTTPClient(c.hc))
		if err != nil {
			c.t.Fatalf("agent client of node %d: %v", nd.n, err)
		}
		out[i] = a
	}
	return out
}

// Bounds of one attempt of a request in the cluster: far over what a live
// node takes on a loaded machine (and over the poll hold), so that a
// timed-out attempt means a node that is gone or stuck.
const (
	attemptTimeout = 5 * time.Second
	retryPause     = 20 * time.Millisecond // after a round of nodes none answered
)

// failover sends a request as a client that knows every node does: to the
// nodes in order, the next one when a request fails in transport (refused,
// reset, cut by attemptTimeout) or is answered 5xx (a node in trouble),
// and round again after a short pause while none answers. Each request
// starts from the first node, so a client goes back to its own node as
// soon as it is up again. op sends one attempt to node n.
//
// It returns nil once a node answers the request, the *client.APIError of a
// 4xx answer (the request is wrong, trying elsewhere will not help), or
// ctx's error when ctx ends first. unsure counts the attempts that failed
// after the request may have reached a node (anything but a refused
// connection): what a node may have done, a later attempt does again.
func (c *cluster) failover(ctx context.Context, order []int, op func(ctx context.Context, n int) error) (unsure int, err error) {
	for attempt := 0; ; attempt++ {
		n := order[attempt%len(order)]
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := op(actx, n)
		cancel()
		var apiErr *client.APIError
		isAPI := errors.As(err, &apiErr)
		if err == nil || isAPI {
			c.node(n).answered.Add(1)
		}
		switch {
		case err == nil:
			return unsure, nil
		case ctx.Err() != nil:
			return unsure, ctx.Err()
		case isAPI && apiErr.Status < 500:
			return unsure, fmt.Errorf("node %d: %w", n, err)
		case !errors.Is(err, syscall.ECONNREFUSED):
			unsure++
		}
		if attempt%len(order) == len(order)-1 {
			select {
			case <-ctx.Done():
				return unsure, ctx.Err()
			case <-time.After(retryPause):
			}
		}
	}
}
