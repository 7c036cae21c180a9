package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/parley-chat/parley/backup"
	"github.com/parley-chat/parley/server"
)

// backupCmd is `parley backup`: a consistent copy of a data directory's
// embedded store and files, taken while the node runs. Files kept in a NATS
// object store (--files) are not in the data directory, nor in the copy.
func backupCmd(args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	data := fs.String("data", env("PARLEY_DATA", "./parley-data"), "data directory to back up (PARLEY_DATA)")
	out := fs.String("out", "", "the .tar.gz file to write; - for standard output")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("backup: unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return errors.New("backup: --out FILE.tar.gz is required (- for standard output)")
	}
	if os.Getenv("PARLEY_FILES") != "" {
		// The node keeps its uploads elsewhere: say so rather than let an
		// archive without them pass for a whole backup.
		fmt.Fprintln(os.Stderr, "parley: PARLEY_FILES is set: uploaded files kept in NATS are not in this backup (docs/operations.md#backups)")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if *out == "-" {
		m, err := backup.Create(ctx, *data, os.TempDir(), server.Version, os.Stdout)
		if err == nil {
			report("backed up", *data, m)
		}
		return err
	}
	// The archive is written beside its final name and renamed once
	// complete, so that a failed backup never looks like a good one. The
	// store's snapshot waits there too, off the node's data disk.
	dir := filepath.Dir(*out)
	f, err := os.CreateTemp(dir, filepath.Base(*out)+".part-")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(f.Name())
	m, err := backup.Create(ctx, *data, dir, server.Version, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), *out)
	}
	if err != nil {
		return err
	}
	report("backed up", *data, m)
	return nil
}

// restoreCmd is `parley restore`: a backup brought back into a data directory
// no node runs on.
func restoreCmd(args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	data := fs.String("data", env("PARLEY_DATA", "./parley-data"), "data directory to restore into; it must have no store unless --force (PARLEY_DATA)")
	in := fs.String("in", "", "the .tar.gz file `parley backup` wrote; - for standard input")
	force := fs.Bool("force", false, "replace the store and files already in --data (stop the node first)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("restore: unexpected argument %q", fs.Arg(0))
	}
	if *in == "" {
		return errors.New("restore: --in FILE.tar.gz is required (- for standard input)")
	}
	var r io.Reader = os.Stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		defer f.Close()
		r = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	m, err := backup.Restore(ctx, r, *data, *force)
	if err != nil {
		return err
	}
	report("restored", *data, m)
	return nil
}

// report tells, on standard error, what a backup holds.
func report(what, dir string, m backup.Manifest) {
	fmt.Fprintf(os.Stderr, "parley: %s %s: store schema %d, %d files (%d bytes), taken %s by parley %s\n",
		what, dir, m.Schema, m.Files, m.Bytes, m.Created.Format("2006-01-02 15:04:05Z"), m.Version)
}
