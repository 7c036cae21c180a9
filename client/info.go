package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
)

// Version returns the server_version the server reports.
func (c *Client) Version(ctx context.Context) (string, error) {
	var out struct {
		ServerVersion string `json:"server_version"`
	}
	if err := c.call(ctx, http.MethodGet, "version", nil, nil, &out); err != nil {
		return "", fmt.Errorf("get version: %w", err)
	}
	return out.ServerVersion, nil
}

// Availability tells whether the scenario entry is open.
type Availability struct {
	// Chat is "available" or the entry's closed value, "notAvailable"
	// (or "unavailable" for entries set up for Android 2.1.0).
	Chat string `json:"chat"`
	// EWT is the estimated wait in whole seconds, "" when not given.
	EWT string `json:"ewt,omitempty"`
}

// Available reports whether the entry takes chats now.
func (a Availability) Available() bool { return a.Chat == "available" }

// Availability asks whether the scenario entry is open.
func (c *Client) Availability(ctx context.Context) (Availability, error) {
	var out Availability
	if err := c.call(ctx, http.MethodGet, "availability", nil, nil, &out); err != nil {
		return Availability{}, fmt.Errorf("check availability: %w", err)
	}
	return out, nil
}

// ICEServer is a STUN or TURN server for WebRTC calls. URL is the docs'
// field; URLs is Parley's, ready for a browser's RTCPeerConnection.
type ICEServer struct {
	URL        string   `json:"url"`
	URLs       []string `json:"urls,omitempty"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ICEServers returns the STUN and TURN servers of the entry.
func (c *Client) ICEServers(ctx context.Context) ([]ICEServer, error) {
	var out struct {
		Servers []ICEServer `json:"servers"`
	}
	if err := c.call(ctx, http.MethodGet, "iceservers", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("get ice servers: %w", err)
	}
	return out.Servers, nil
}

// Configuration is the entry's chat widget configuration. The server serves
// it verbatim, so it stays raw beyond the widget names and URLs.
type Configuration struct {
	Widgets []Widget `json:"widgets"`
	// Raw is the whole answer as received.
	Raw json.RawMessage `json:"-"`
}

// Widget is one configured chat widget.
type Widget struct {
	Name       string          `json:"name"`
	URLs       []string        `json:"urls,omitempty"`
	Definition json.RawMessage `json:"definition,omitempty"`
	Styles     json.RawMessage `json:"styles,omitempty"`
}

// Configuration returns the entry's chat widget configuration.
func (c *Client) Configuration(ctx context.Context) (Configuration, error) {
	var raw json.RawMessage
	if err := c.call(ctx, http.MethodGet, "configuration", nil, nil, &raw); err != nil {
		return Configuration{}, fmt.Errorf("get configuration: %w", err)
	}
	var out Configuration
	if err := json.Unmarshal(raw, &out); err != nil {
		return Configuration{}, fmt.Errorf("get configuration: %w: %w", ErrBadResponse, err)
	}
	out.Raw = raw
	return out, nil
}

// Parameter is one parameter the entry expects in a chat request, with its
// type: PHONE, TEXT, EMAIL, FIRST_NAME, LAST_NAME, ACCOUNT or COMPANY.
type Parameter struct {
	Name string
	Type string
}

// Parameters returns the parameters the entry expects, in the server's
// order.
func (c *Client) Parameters(ctx context.Context) ([]Parameter, error) {
	var out struct {
		Parameters []map[string]string `json:"parameters"`
	}
	if err := c.call(ctx, http.MethodGet, "parameters", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("get parameters: %w", err)
	}
	var params []Parameter
	for _, obj := range out.Parameters {
		// Each object should hold one name; order several for stability.
		names := make([]string, 0, len(obj))
		for name := range obj {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			params = append(params, Parameter{Name: name, Type: obj[name]})
		}
	}
	return params, nil
}
