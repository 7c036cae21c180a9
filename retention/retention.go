// Package retention enforces the tenants' retention periods: a background
// job that deletes ended chats older than a tenant's chats period (session,
// events, files with their bytes, wrap-ups, push rows) and files older than
// its files period. It works in small batches, so that the embedded SQLite
// store is never locked for long, and is safe to run on several nodes at
// once (deletions are idempotent).
//
// It uses the chat package and privacy (for deletions with their bytes);
// it must not import HTTP packages or a store implementation.
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/parley-chat/parley/privacy"
)

// Defaults of Job.
const (
	DefaultInterval = 5 * time.Minute
	DefaultBatch    = 100
)

// Job deletes what the tenants' retention periods no longer allow to keep.
type Job struct {
	Eraser   *privacy.Eraser
	Log      *slog.Logger
	Now      func() time.Time // the clock; time.Now by default
	Interval time.Duration    // between runs (DefaultInterval)
	Batch    int              // chats or files deleted per store call (DefaultBatch)
}

// Result counts what one run deleted.
type Result struct {
	Chats int
	Files int
}

// Run runs the job at once and then every Interval until ctx ends. A run
// that fails is logged and tried again at the next tick.
func (j *Job) Run(ctx context.Context) error {
	interval := j.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		res, err := j.Once(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			j.Log.Error("retention run failed", "err", err, "chats", res.Chats, "files", res.Files)
		case res.Chats > 0 || res.Files > 0:
			j.Log.Info("retention deleted expired data", "chats", res.Chats, "files", res.Files)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Once deletes, for every tenant with retention periods, the ended chats
// and the files they have outlived.
func (j *Job) Once(ctx context.Context) (Result, error) {
	var res Result
	hosts, err := j.Eraser.Store.TenantHosts(ctx)
	if err != nil {
		return res, fmt.Errorf("retention: %w", err)
	}
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	for _, host := range hosts {
		t, err := j.Eraser.Store.Tenant(ctx, host)
		if err != nil {
			return res, fmt.Errorf("retention: tenant %s: %w", host, err)
		}
		if p := time.Duration(t.Retention.Chats); p > 0 {
			n, err := j.chats(ctx, host, now().Add(-p))
			res.Chats += n
			if err != nil {
				return res, fmt.Errorf("retention: tenant %s: %w", host, err)
			}
		}
		if p := time.Duration(t.Retention.Files); p > 0 {
			n, err := j.files(ctx, host, now().Add(-p))
			res.Files += n
			if err != nil {
				return res, fmt.Errorf("retention: tenant %s: %w", host, err)
			}
		}
	}
	return res, nil
}

func (j *Job) batch() int {
	if j.Batch > 0 {
		return j.Batch
	}
	return DefaultBatch
}

// chats deletes the tenant's chats that ended before cutoff, one chat per
// store transaction, a batch per query.
func (j *Job) chats(ctx context.Context, host string, cutoff time.Time) (int, error) {
	deleted := 0
	for {
		sessions, err := j.Eraser.Store.EndedSessions(ctx, host, cutoff, j.batch())
		if err != nil {
			return deleted, err
		}
		for _, s := range sessions {
			if _, err := j.Eraser.DeleteChat(ctx, s.ID); err != nil {
				return deleted, err
			}
			deleted++
		}
		if len(sessions) < j.batch() {
			return deleted, nil
		}
	}
}

// files deletes the tenant's files uploaded before cutoff, a batch at a time.
func (j *Job) files(ctx context.Context, host string, cutoff time.Time) (int, error) {
	deleted := 0
	for {
		files, err := j.Eraser.Store.FilesBefore(ctx, host, cutoff, j.batch())
		if err != nil {
			return deleted, err
		}
		if err := j.Eraser.DeleteFiles(ctx, files); err != nil {
			return deleted, err
		}
		deleted += len(files)
		if len(files) < j.batch() {
			return deleted, nil
		}
	}
}
