package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// eventList is the {"events":[…]} body that Send Events takes and polls and
// history answer.
type eventList struct {
	Events []Event `json:"events"`
}

// SendEvents sends client events (§4.1) to the chat. The server takes or
// refuses them all at once: a 400 *APIError (5003) names the first bad one.
func (c *Client) SendEvents(ctx context.Context, chatID string, events ...Event) error {
	body := eventList{Events: events}
	if body.Events == nil {
		body.Events = []Event{}
	}
	if err := c.chatCall(ctx, http.MethodPost, nil, body, nil, chatID, "events"); err != nil {
		return fmt.Errorf("send events: %w", err)
	}
	return nil
}

// Poll long-polls the chat for events not given to this client yet. It
// returns at once when there are some and otherwise after the server's hold
// (10 s by default) with none. Bound it with ctx; a 404 *APIError (5005)
// means the chat is over and polling should stop.
func (c *Client) Poll(ctx context.Context, chatID string) ([]Event, error) {
	return c.poll(ctx, chatID, nil)
}

// PollAfter is Poll asking for every event after afterSeq again (Parley's
// ?after=), for loss-free recovery after a lost answer. See LastSeq.
func (c *Client) PollAfter(ctx context.Context, chatID string, afterSeq int64) ([]Event, error) {
	return c.poll(ctx, chatID, url.Values{"after": {strconv.FormatInt(afterSeq, 10)}})
}

func (c *Client) poll(ctx context.Context, chatID string, query url.Values) ([]Event, error) {
	var out eventList
	if err := c.chatCall(ctx, http.MethodGet, query, nil, &out, chatID, "events"); err != nil {
		return nil, fmt.Errorf("poll events: %w", err)
	}
	return out.Events, nil
}

// History returns every event of the chat in order, the client's own
// included.
func (c *Client) History(ctx context.Context, chatID string) ([]Event, error) {
	var out eventList
	if err := c.chatCall(ctx, http.MethodGet, nil, nil, &out, chatID, "history"); err != nil {
		return nil, fmt.Errorf("get history: %w", err)
	}
	return out.Events, nil
}

// CaseSession is one chat of a case, as case history lists them.
type CaseSession struct {
	ChatID string `json:"chat_id"`
	// CreatedTime is whole Unix seconds.
	CreatedTime string  `json:"created_time"`
	Events      []Event `json:"events"`
}

// caseHistory is the answer of both case history methods.
type caseHistory struct {
	Sessions []CaseSession `json:"sessions"`
}

// CaseHistory returns every chat of the chat's case, oldest first; a 406
// *APIError (5601) before a case is set.
func (c *Client) CaseHistory(ctx context.Context, chatID string) ([]CaseSession, error) {
	var out caseHistory
	if err := c.chatCall(ctx, http.MethodGet, nil, nil, &out, chatID, "casehistory"); err != nil {
		return nil, fmt.Errorf("get case history: %w", err)
	}
	return out.Sessions, nil
}

// LiveCaseHistory is CaseHistory for the client's live chat, by the docs'
// GET casehistory.
func (c *Client) LiveCaseHistory(ctx context.Context) ([]CaseSession, error) {
	var out caseHistory
	if err := c.call(ctx, http.MethodGet, "casehistory", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("get live case history: %w", err)
	}
	return out.Sessions, nil
}
