// Command kvd runs the kvd server: flags and an optional redis.conf-style
// file become a server.Config; everything else lives in package server.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kvd/kvd/server"
)

func main() {
	if err := newRootCmd(serve).Execute(); err != nil {
		os.Exit(1)
	}
}

// newRootCmd builds the CLI; run receives the effective configuration
// (tests pass their own run to check how flags and file combine).
func newRootCmd(run func(cfg *server.Config, cpuprofile string) error) *cobra.Command {
	var (
		configFile string
		port       int
		bind       string
		workers    int
		pass       string
		databases  int
		loglevel   string
		maxclients int
		cpuprofile string
	)
	cmd := &cobra.Command{
		Use:     "kvd",
		Short:   "kvd: a Redis-compatible, multithreaded key-value server",
		Version: server.KvdVersion + " (redis " + server.Version + " compatible)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := server.DefaultConfig()
			// The binary balances slots and scales workers by default
			// (rebalance-interval-ms); the file and flags can change it.
			server.AdaptiveDefaults(cfg)
			if configFile != "" {
				if err := cfg.LoadFile(configFile); err != nil {
					return err
				}
			}
			// Flags override the file, and only when given.
			set := func(flag, param, value string) error {
				if !cmd.Flags().Changed(flag) {
					return nil
				}
				if err := cfg.Set(param, value, false); err != nil {
					return fmt.Errorf("--%s: %v", flag, err)
				}
				return nil
			}
			for _, f := range []struct{ flag, param, value string }{
				{"port", "port", strconv.Itoa(port)},
				{"bind", "bind", bind},
				{"workers", "workers", strconv.Itoa(workers)},
				{"requirepass", "requirepass", pass},
				{"databases", "databases", strconv.Itoa(databases)},
				{"loglevel", "loglevel", loglevel},
				{"maxclients", "maxclients", strconv.Itoa(maxclients)},
			} {
				if err := set(f.flag, f.param, f.value); err != nil {
					return err
				}
			}
			// An explicit --workers N fixes the shape: the scaler keeps N
			// workers (slots are still balanced between them).
			if cmd.Flags().Changed("workers") && workers > 0 {
				for _, p := range []string{"workers-min", "workers-max"} {
					if err := cfg.Set(p, strconv.Itoa(workers), false); err != nil {
						return fmt.Errorf("--workers: %v", err)
					}
				}
			}
			return run(cfg, cpuprofile)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&configFile, "config", "c", "", "redis.conf-style configuration file")
	f.IntVarP(&port, "port", "p", 6379, "TCP port to listen on")
	f.StringVar(&bind, "bind", "127.0.0.1", "addresses to listen on (space-separated)")
	f.IntVar(&workers, "workers", 0, "fixed number of worker goroutines (0 or absent: adaptive, between workers-min and workers-max)")
	f.StringVar(&pass, "requirepass", "", "password clients must AUTH with")
	f.IntVar(&databases, "databases", 16, "number of logical databases")
	f.StringVar(&loglevel, "loglevel", "notice", "debug, verbose, notice or warning")
	f.IntVar(&maxclients, "maxclients", 10000, "maximum number of connected clients")
	f.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile to this file until shutdown (performance work)")
	f.StringVar(&memprofile, "memprofile", "", "write an allocation profile to this file at shutdown (performance work)")
	cmd.SilenceUsage = true
	return cmd
}

// memprofile is the --memprofile flag: where serve writes the allocation
// profile (pprof "allocs") when the server stops.
var memprofile string

// serve runs the server until SIGINT/SIGTERM or SHUTDOWN.
func serve(cfg *server.Config, cpuprofile string) error {
	if memprofile != "" {
		defer func() {
			if f, err := os.Create(memprofile); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return server.New(cfg).Run(ctx)
}
