package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/parley-chat/parley/clientweb"
	"github.com/parley-chat/parley/server"
)

// limitFlags are the customer API's limits against abuse: request rates
// per client and per address, and pending polls per client.
type limitFlags struct {
	clientRate, ipRate   *float64
	clientBurst, ipBurst *int
	maxPolls             *int
}

func addLimitFlags(fs *flag.FlagSet) *limitFlags {
	d := clientweb.DefaultLimits
	return &limitFlags{
		clientRate:  fs.Float64("client-rate", envFloat("PARLEY_CLIENT_RATE", d.ClientRate), "requests per second one customer client (tenant, appId, clientId) may send; 0: no limit (PARLEY_CLIENT_RATE)"),
		clientBurst: fs.Int("client-burst", envInt("PARLEY_CLIENT_BURST", d.ClientBurst), "requests a customer client may send at once above its rate (PARLEY_CLIENT_BURST)"),
		ipRate:      fs.Float64("ip-rate", envFloat("PARLEY_IP_RATE", d.IPRate), "requests per second one client address may send to the customer API; 0: no limit. Behind a reverse proxy that is not in --trusted-proxies every customer has the proxy's address (PARLEY_IP_RATE)"),
		ipBurst:     fs.Int("ip-burst", envInt("PARLEY_IP_BURST", d.IPBurst), "requests an address may send at once above its rate (PARLEY_IP_BURST)"),
		maxPolls:    fs.Int("max-polls-per-client", envInt("PARLEY_MAX_POLLS_PER_CLIENT", clientweb.DefaultMaxPollsPerClient), "polls one customer client id may hold pending across its chats; 0: no cap (PARLEY_MAX_POLLS_PER_CLIENT)"),
	}
}

func (l *limitFlags) apply(o *server.Options) {
	o.Limits = &clientweb.Limits{ClientRate: *l.clientRate, ClientBurst: *l.clientBurst, IPRate: *l.ipRate, IPBurst: *l.ipBurst}
	o.MaxPollsPerClient = *l.maxPolls
	if o.MaxPollsPerClient == 0 {
		o.MaxPollsPerClient = -1 // the flag's 0 is no cap; the option's is the default
	}
}

func envFloat(key string, def float64) float64 {
	v, ok := os.LookupEnv(key)
	if !ok {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "parley: %s: %v\n", key, err)
		os.Exit(2)
	}
	return f
}

func envInt(key string, def int) int {
	v, ok := os.LookupEnv(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "parley: %s: %v\n", key, err)
		os.Exit(2)
	}
	return n
}
