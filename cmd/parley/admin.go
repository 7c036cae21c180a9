package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/adminapi"
	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/postgres"
	"github.com/parley-chat/parley/sqlite"
	"sigs.k8s.io/yaml"
)

const adminUsage = `usage: parley admin <command> [--url URL] [--token TOKEN]

Calls the admin API of the server at --url (PARLEY_URL, default
http://localhost:8080) with the admin token --token (PARLEY_ADMIN_TOKEN).
Answers are printed as JSON. FILE is YAML or JSON; "-" reads stdin.

  tenants list | get HOST | put FILE | disable HOST
  entries list TENANT | get TENANT APP_ID | put TENANT FILE | disable TENANT APP_ID
  agents  list TENANT | get TENANT USERNAME | create TENANT FILE | put TENANT FILE | disable TENANT USERNAME
  audit   [--limit N] [--before ID]
  token create --scopes SCOPES [--name NAME] (--data DIR | --store URL)
          stores a new admin token directly in the store (the server may be
          running) and prints it once; SCOPES is a comma-separated list of
          ` + "tenants:read, tenants:write, agents:read, agents:write, audit:read or *\n"

const configUsage = `usage: parley config apply FILE [--dry-run] [--url URL] [--token TOKEN]

Makes the live configuration of the server match FILE (the YAML of
--config): every tenant, entry and agent FILE lists is created or updated.
What FILE does not list is left alone. --dry-run prints the changes
without making them. Secrets are never printed.
`

// cliArgs are a command's words and flags, which may come in any order.
type cliArgs struct {
	words []string
	flags map[string]string
}

// parseArgs splits args into words and --name value (or --name=value)
// flags; bools names the flags that take no value.
func parseArgs(args []string, bools ...string) (cliArgs, error) {
	a := cliArgs{flags: map[string]string{}}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "-" || !strings.HasPrefix(arg, "-") {
			a.words = append(a.words, arg)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		isBool := false
		for _, b := range bools {
			isBool = isBool || b == name
		}
		switch {
		case name == "h" || name == "help":
			return a, flagHelp
		case isBool && !hasValue:
			value = "true"
		case !hasValue:
			if i+1 >= len(args) {
				return a, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			value = args[i]
		}
		a.flags[name] = value
	}
	return a, nil
}

var flagHelp = errors.New("help")

func (a cliArgs) flag(name, envKey, def string) string {
	if v, ok := a.flags[name]; ok {
		return v
	}
	if envKey != "" {
		if v := os.Getenv(envKey); v != "" {
			return v
		}
	}
	return def
}

func (a cliArgs) client() (*adminapi.Client, error) {
	c := &adminapi.Client{URL: a.flag("url", "PARLEY_URL", "http://localhost:8080"), Token: a.flag("token", "PARLEY_ADMIN_TOKEN", "")}
	if c.Token == "" {
		return nil, errors.New("no admin token: give --token or set PARLEY_ADMIN_TOKEN (parley admin token create makes one)")
	}
	return c, nil
}

// want checks the number of words after the command.
func (a cliArgs) want(n int, usage string) error {
	if len(a.words) != n {
		return fmt.Errorf("usage: parley admin %s", usage)
	}
	return nil
}

func adminCmd(args []string) error {
	a, err := parseArgs(args)
	if errors.Is(err, flagHelp) {
		fmt.Fprint(os.Stderr, adminUsage)
		return nil
	}
	if err == nil && len(a.words) < 1 {
		fmt.Fprint(os.Stderr, adminUsage)
		return errors.New("admin: command missing")
	}
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	what, verb := a.words[0], ""
	if len(a.words) > 1 {
		verb = a.words[1]
	}
	if what == "token" {
		return tokenCmd(ctx, a)
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	rest := cliArgs{words: a.words[min(2, len(a.words)):], flags: a.flags}
	call := func(method, path string, body any) error {
		var out json.RawMessage
		if err := c.Do(ctx, method, path, body, &out); err != nil {
			return err
		}
		return printJSON(out)
	}
	switch what + " " + verb {
	case "tenants list":
		return call(http.MethodGet, "tenants", nil)
	case "tenants get":
		if err := rest.want(1, "tenants get HOST"); err != nil {
			return err
		}
		return call(http.MethodGet, adminapi.Path("tenants", rest.words[0]), nil)
	case "tenants put":
		if err := rest.want(1, "tenants put FILE"); err != nil {
			return err
		}
		var t chat.Tenant
		if err := readFile(rest.words[0], &t); err != nil {
			return err
		}
		f := &config.File{Tenants: []chat.Tenant{t}}
		if err := f.Validate(); err != nil {
			return err
		}
		changes, err := adminapi.Apply(ctx, c, f, false)
		if err != nil {
			return err
		}
		return printValue(map[string]any{"changes": changes})
	case "tenants disable":
		if err := rest.want(1, "tenants disable HOST"); err != nil {
			return err
		}
		return call(http.MethodPost, adminapi.Path("tenants", rest.words[0], "disable"), nil)
	case "entries list":
		if err := rest.want(1, "entries list TENANT"); err != nil {
			return err
		}
		return call(http.MethodGet, adminapi.Path("tenants", rest.words[0], "entries"), nil)
	case "entries get":
		if err := rest.want(2, "entries get TENANT APP_ID"); err != nil {
			return err
		}
		return call(http.MethodGet, adminapi.Path("tenants", rest.words[0], "entries", rest.words[1]), nil)
	case "entries put":
		if err := rest.want(2, "entries put TENANT FILE"); err != nil {
			return err
		}
		var e chat.Entry
		if err := readFile(rest.words[1], &e); err != nil {
			return err
		}
		return call(http.MethodPut, adminapi.Path("tenants", rest.words[0], "entries", e.AppID), e)
	case "entries disable":
		if err := rest.want(2, "entries disable TENANT APP_ID"); err != nil {
			return err
		}
		return call(http.MethodPost, adminapi.Path("tenants", rest.words[0], "entries", rest.words[1], "disable"), nil)
	case "agents list":
		if err := rest.want(1, "agents list TENANT"); err != nil {
			return err
		}
		return call(http.MethodGet, adminapi.Path("tenants", rest.words[0], "agents"), nil)
	case "agents get":
		if err := rest.want(2, "agents get TENANT USERNAME"); err != nil {
			return err
		}
		return call(http.MethodGet, adminapi.Path("tenants", rest.words[0], "agents", rest.words[1]), nil)
	case "agents create", "agents put":
		if err := rest.want(2, "agents "+verb+" TENANT FILE"); err != nil {
			return err
		}
		var s adminapi.AgentSettings
		if err := readFile(rest.words[1], &s); err != nil {
			return err
		}
		if verb == "create" {
			return call(http.MethodPost, adminapi.Path("tenants", rest.words[0], "agents"), s)
		}
		return call(http.MethodPut, adminapi.Path("tenants", rest.words[0], "agents", s.Username), s)
	case "agents disable":
		if err := rest.want(2, "agents disable TENANT USERNAME"); err != nil {
			return err
		}
		return call(http.MethodPost, adminapi.Path("tenants", rest.words[0], "agents", rest.words[1], "disable"), nil)
	case "audit ":
		q := "?limit=" + a.flag("limit", "", "100")
		if b := a.flag("before", "", ""); b != "" {
			if _, err := strconv.ParseInt(b, 10, 64); err != nil {
				return errors.New("--before: want an audit entry id")
			}
			q += "&before=" + b
		}
		return call(http.MethodGet, "audit"+q, nil)
	}
	fmt.Fprint(os.Stderr, adminUsage)
	return fmt.Errorf("admin: unknown command %q", strings.TrimSpace(what+" "+verb))
}

// tokenCmd makes an admin token in the store itself: the way in before
// there is any token to call the API with.
func tokenCmd(ctx context.Context, a cliArgs) error {
	if len(a.words) != 2 || a.words[1] != "create" {
		return errors.New("usage: parley admin token create --scopes SCOPES [--name NAME] (--data DIR | --store URL)")
	}
	var scopes []string
	for s := range strings.SplitSeq(a.flag("scopes", "", ""), ",") {
		if s = strings.TrimSpace(s); s != "" {
			scopes = append(scopes, s)
		}
	}
	var st interface {
		chat.AdminStore
		Close() error
	}
	var err error
	storeURL := a.flag("store", "PARLEY_STORE", "")
	switch {
	case storeURL != "":
		st, err = postgres.Open(ctx, storeURL)
	default:
		data := a.flag("data", "PARLEY_DATA", "./parley-data")
		dbPath := filepath.Join(data, "parley.db")
		if _, statErr := os.Stat(dbPath); statErr != nil {
			return fmt.Errorf("no store at %s: start the server once with --data %s first", dbPath, data)
		}
		st, err = sqlite.Open(ctx, dbPath)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	t, value, err := adminapi.CreateToken(ctx, st, a.flag("name", "", ""), scopes, time.Now())
	if err != nil {
		return err
	}
	return printValue(map[string]any{"id": t.ID, "name": t.Name, "scopes": t.Scopes, "token": value,
		"note": "the token is shown once: keep it now"})
}

func configCmd(args []string) error {
	a, err := parseArgs(args, "dry-run")
	if errors.Is(err, flagHelp) {
		fmt.Fprint(os.Stderr, configUsage)
		return nil
	}
	if err == nil && (len(a.words) != 2 || a.words[0] != "apply") {
		fmt.Fprint(os.Stderr, configUsage)
		return errors.New("config: want apply FILE")
	}
	if err != nil {
		return err
	}
	f, err := config.Load(a.words[1])
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dry := a.flag("dry-run", "", "false") == "true"
	changes, err := adminapi.Apply(ctx, c, f, dry)
	if perr := printValue(map[string]any{"dry_run": dry, "changes": changes}); perr != nil && err == nil {
		err = perr
	}
	return err
}

// readFile decodes a YAML or JSON file ("-": stdin) into v, refusing
// unknown keys.
func readFile(path string, v any) error {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return err
	}
	if err := yaml.UnmarshalStrict(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func printJSON(raw json.RawMessage) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		_, err = os.Stdout.Write(raw)
		return err
	}
	buf.WriteByte('\n')
	_, err := os.Stdout.Write(buf.Bytes())
	return err
}

func printValue(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
