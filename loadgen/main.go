package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Main runs `parley loadgen` with its command-line arguments.
func Main(args []string) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	var cfg Config
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "base URL of the Parley server")
	fs.StringVar(&cfg.AgentURL, "agent-url", "", "base URL of the node agents use; default --url (another node of a scaled-out deployment: every message crosses the bus)")
	fs.StringVar(&cfg.Profile, "profile", ProfileChat, "chat (customers and agents talk) or waiting (customers only hold long polls)")
	fs.IntVar(&cfg.Customers, "customers", 100, "simulated customers")
	fs.IntVar(&cfg.Agents, "agents", 0, "simulated agents (chat profile); 0: one per 100 customers")
	fs.DurationVar(&cfg.Duration, "duration", 60*time.Second, "measured time, after the ramp-up")
	fs.DurationVar(&cfg.Ramp, "ramp", 10*time.Second, "customers start evenly spread over this time")
	fs.DurationVar(&cfg.Think, "think", 5*time.Second, "mean pause between two messages of a customer")
	fs.Float64Var(&cfg.Rate, "rate", 0, "messages per second of all customers together (replaces --think); agents answer each, so the server accepts twice as many")
	fs.DurationVar(&cfg.AgentThink, "agent-think", 0, "pause before an agent answers")
	fs.BoolVar(&cfg.Typing, "typing", true, "customers send chat_session_typing before each message")
	fs.BoolVar(&cfg.Receipts, "receipts", true, "customers send delivered and read receipts for each answer")
	fs.StringVar(&cfg.Tenant, "tenant", "demo.parley.local", "tenantUrl of customers and agents")
	fs.StringVar(&cfg.App, "app", "demo-chat", "appId of the customers' scenario entry")
	fs.StringVar(&cfg.AgentUser, "agent-user", "lg-agent-", "agents log in as <agent-user><n>, n = 1…--agents")
	fs.StringVar(&cfg.AgentPassword, "agent-password", "lg-agent-password", "password of the agents")
	fs.BoolVar(&cfg.EndChats, "end-chats", true, "end every chat when the run is over")
	fs.DurationVar(&cfg.Every, "every", 5*time.Second, "interval of progress lines")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "process id of the server, for its RSS; default: the process listening on the URL's port, when local")
	fs.IntVar(&cfg.SourceIPs, "source-ips", 0, "loopback source addresses 127.0.0.1…n for a local server; 0: as many as the connections need")
	fs.StringVar(&cfg.RunID, "run-id", "", "makes client ids unique between runs; default from the time")
	procs := fs.Int("procs", 0, "processes to spread the clients over; 0: as many as the open-files limit needs")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	writeAgents := fs.String("write-agents", "", "write a configuration file with --agents agents (capacity 100) for `parley serve --config`, then exit")
	capacity := fs.Int("agent-capacity", 100, "capacity of the agents --write-agents writes")
	worker := fs.Int("worker", -1, "internal: run one share of the clients and report to the parent")
	cpuProfile := fs.String("cpuprofile", "", "write the load generator's own CPU profile to this file")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: parley loadgen [flags]\n\n"+
			"Simulated customers (customer API v2, as the mobile SDKs) and agents (agent API) against a Parley server.\n"+
			"A load run's agents come from a configuration file: parley loadgen --write-agents agents.yaml --agents 20,\n"+
			"then parley serve --config agents.yaml.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("loadgen: unexpected argument %q", fs.Arg(0))
	}
	if cfg.Agents == 0 && cfg.Profile == ProfileChat {
		cfg.Agents = max(1, (cfg.Customers+99)/100)
	}
	if *writeAgents != "" {
		return writeAgentsConfig(*writeAgents, cfg, *capacity)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lessGC()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *worker >= 0 {
		return runWorker(ctx, cfg, *worker, *procs)
	}
	if *procs <= 0 {
		*procs = procsNeeded(cfg)
	}
	if cfg.RunID == "" {
		cfg.RunID = fmt.Sprintf("%x", time.Now().UnixNano()/int64(time.Millisecond)%0xffffffff)
	}
	var rep *Report
	var err error
	if *procs <= 1 {
		rep, err = Run(ctx, cfg)
	} else {
		rep, err = runParent(ctx, cfg, args, *procs)
	}
	if err != nil {
		return err
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	return nil
}

// procsNeeded is how many processes the run's connections need under the
// open-files limit (Go raises the soft limit to the hard one at start).
func procsNeeded(cfg Config) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == 0 {
		return 1
	}
	conns := cfg.Customers + 3*cfg.Agents
	if cfg.Profile == ProfileChat {
		conns += cfg.Customers
	}
	usable := int(float64(lim.Cur)*0.85) - 100
	if usable <= 0 {
		return 1
	}
	return max(1, (conns+usable-1)/usable)
}

// writeAgentsConfig writes the agents of a load run as a configuration
// file: one bcrypt hash for all, so that applying it is quick.
func writeAgentsConfig(path string, cfg Config, capacity int) error {
	if cfg.Agents <= 0 {
		return errors.New("--write-agents: give --agents")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(cfg.AgentPassword), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("--agent-password: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Agents of parley loadgen (written by parley loadgen --write-agents); password %q.\nagents:\n", cfg.AgentPassword)
	for n := 1; n <= cfg.Agents; n++ {
		fmt.Fprintf(&b, "  - {tenant: %q, username: %q, password_hash: %q, first_name: Load, last_name: \"Agent %d\", capacity: %d}\n",
			cfg.Tenant, cfg.AgentUser+strconv.Itoa(n), hash, n, capacity)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// Worker protocol: a worker process writes a line "S <snapshot JSON>" to
// its standard output every half second, "W <snapshot JSON>" with its
// measured window as soon as it is over, and exits when its run is.

// runWorker runs one share of the clients and reports to the parent.
func runWorker(ctx context.Context, cfg Config, worker, procs int) error {
	cfg.worker, cfg.workers = worker, max(procs, 1)
	cfg.Out = io.Discard
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	e, err := newEngine(cfg)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	emit := func(kind string, s Snapshot) {
		b, _ := json.Marshal(s)
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "%s %s\n", kind, b)
		out.Flush()
	}
	finished := make(chan struct{})
	go func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				emit("S", e.snapshot())
			case <-finished:
				return
			}
		}
	}()
	e.run(ctx, func(w Snapshot) { emit("W", w) })
	close(finished)
	emit("S", e.snapshot())
	return nil
}

// runParent starts procs worker processes of this executable with the same
// arguments, shows their combined progress and reports their combined
// windows.
func runParent(ctx context.Context, cfg Config, args []string, procs int) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	r := newReporter(cfg)
	r.begin()
	fmt.Fprintf(r.out, "spreading the clients over %d processes (open-files limit)\n", procs)
	latest := make([]Snapshot, procs)
	var mu sync.Mutex
	windows := make(chan Snapshot, procs)
	finished := make(chan struct{})
	var wg sync.WaitGroup
	sources := make([]func() Snapshot, procs)
	for i := range procs {
		sources[i] = func() Snapshot { mu.Lock(); defer mu.Unlock(); return latest[i] }
		wargs := append(append([]string{"loadgen"}, args...), "--worker", strconv.Itoa(i), "--procs", strconv.Itoa(procs), "--run-id", cfg.RunID)
		cmd := exec.CommandContext(ctx, self, wargs...)
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = 90 * time.Second
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start worker: %w", err)
		}
		wg.Go(func() {
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 1<<20), 16<<20)
			for sc.Scan() {
				kind, body, _ := strings.Cut(sc.Text(), " ")
				var s Snapshot
				if json.Unmarshal([]byte(body), &s) != nil {
					continue
				}
				switch kind {
				case "S":
					mu.Lock()
					latest[i] = s
					mu.Unlock()
				case "W":
					windows <- s
				}
			}
			if err := cmd.Wait(); err != nil && ctx.Err() == nil {
				fmt.Fprintf(os.Stderr, "loadgen worker %d: %v\n", i, err)
			}
		})
	}
	go func() { wg.Wait(); close(finished) }()
	window := r.follow(sources, windows, finished)
	return r.finish(window), nil
}

// loadGC is the load generator's GOGC when none is set. It shares the
// machine with the server it measures: a thousand clients' garbage,
// collected at the default pace, took a tenth of its CPU, which the server
// then lacked. Memory is what it has to spare.
const loadGC = 400

// lessGC sets GOGC to loadGC unless the environment sets it.
func lessGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(loadGC)
	}
}
