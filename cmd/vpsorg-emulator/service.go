package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator/control"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator/liveview"
	"github.com/vpsorg/terraform-provider-vpsorg/internal/emulator/persist"
)

// envAdminToken is where the admin token may come from instead of a flag,
// which other users of the machine could read in the process list.
const envAdminToken = "VPSORG_EMULATOR_ADMIN_TOKEN"

// serviceConfig is what makes the emulator a service for pipelines: its
// world in files, the control API's token, TLS, readiness, chaos.
type serviceConfig struct {
	seedFile, stateFile string
	addressFile         string
	journalFile         string
	adminToken          string
	tls                 bool
	tlsNames            string
	tlsCAFile           string
	chaosRate           float64
	chaosSeed           uint64
	timeouts            timeouts

	seed *persist.Seed // loaded by check
}

func (s *serviceConfig) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&s.seedFile, "seed", "", "JSON file of the servers each account has at start and after a reset")
	fs.StringVar(&s.stateFile, "state", "", "JSON file the world is kept in: read at start, written after every change; one emulator at a time (a lock FILE.lock beside it)")
	fs.StringVar(&s.addressFile, "address-file", "", "file to write the API's URL to once listening (for -listen with port 0)")
	fs.StringVar(&s.journalFile, "journal", "", "file to write the request journal to (JSON: the latest -journal-size requests) when the emulator stops")
	fs.StringVar(&s.adminToken, "admin-token", "", "token the control API wants from non-loopback addresses (or "+envAdminToken+")")
	fs.BoolVar(&s.tls, "tls", false, "serve https with a certificate from a CA made at start")
	fs.StringVar(&s.tlsNames, "tls-names", "localhost,127.0.0.1", "comma-separated host names and IP addresses of the -tls certificate")
	fs.StringVar(&s.tlsCAFile, "tls-ca-file", "", "where -tls writes its CA certificate (PEM); default a temporary file")
	fs.Float64Var(&s.chaosRate, "chaos", 0, "fraction of requests (0 to 1) answered by a random fault")
	fs.Uint64Var(&s.chaosSeed, "chaos-seed", 0, "seed of the -chaos faults; default a random one, printed so a run can be replayed")
	fs.DurationVar(&s.timeouts.read, "read-timeout", defaultTimeouts.read, "longest a client may take to send a request, body included")
	fs.DurationVar(&s.timeouts.write, "write-timeout", defaultTimeouts.write, "longest a client may take to take an answer, counted after the -latency")
	fs.DurationVar(&s.timeouts.idle, "idle-timeout", defaultTimeouts.idle, "how long an idle keep-alive connection stays open")
}

// timeouts bound how long a client may hold a connection: the emulator
// serves anyone who reaches it, and a slow or idle client must not keep a
// connection, a goroutine and its buffers for ever.
type timeouts struct{ read, write, idle time.Duration }

// The idle timeout is longer than the provider's own (90s), so that the
// client, not the emulator, closes an idle connection: a close from the
// server side can meet a request the client just sent on it.
var defaultTimeouts = timeouts{read: 30 * time.Second, write: time.Minute, idle: 2 * time.Minute}

// httpServer is the server for h under t. Its write deadline starts
// after the emulator's latency, which a request sleeps through before its
// answer.
func (t timeouts) httpServer(h http.Handler, emu *emulator.Emulator) *http.Server {
	withDeadline := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(emu.Latency() + t.write))
		h.ServeHTTP(w, r)
	})
	return &http.Server{Handler: withDeadline, ReadHeaderTimeout: min(10*time.Second, t.read),
		ReadTimeout: t.read, WriteTimeout: t.write, IdleTimeout: t.idle}
}

// check validates the service flags, loads the seed, and picks a chaos
// seed when none is given.
func (s *serviceConfig) check(fs *flag.FlagSet) error {
	if s.adminToken == "" {
		s.adminToken = os.Getenv(envAdminToken)
	}
	if s.chaosRate < 0 || s.chaosRate > 1 || s.chaosRate != s.chaosRate {
		return fmt.Errorf("-chaos %v: want a fraction of requests from 0 to 1", s.chaosRate)
	}
	if isSet(fs, "chaos-seed") && s.chaosRate == 0 {
		return errors.New("-chaos-seed needs -chaos")
	}
	if s.chaosRate > 0 && !isSet(fs, "chaos-seed") {
		var b [8]byte
		_, _ = rand.Read(b[:])                               // never fails (crypto/rand)
		s.chaosSeed = binary.LittleEndian.Uint64(b[:]) >> 12 // short enough to retype
	}
	if s.timeouts.read <= 0 || s.timeouts.write <= 0 || s.timeouts.idle <= 0 {
		return errors.New("-read-timeout, -write-timeout and -idle-timeout must be positive")
	}
	if s.tls && strings.Trim(s.tlsNames, ", ") == "" {
		return errors.New("-tls-names must name at least one host")
	}
	if !s.tls && (isSet(fs, "tls-names") || isSet(fs, "tls-ca-file")) {
		return errors.New("-tls-names and -tls-ca-file need -tls")
	}
	if s.seedFile != "" {
		seed, err := persist.LoadSeed(s.seedFile)
		if err != nil {
			return err
		}
		s.seed = &seed
	}
	return nil
}

// instance is a running emulator with everything around it.
type instance struct {
	emu     *emulator.Emulator
	cfg     config
	url     string // the API's base URL
	caFile  string // the CA certificate in -tls mode
	caPEM   []byte
	tempDir string // removed at stop
	store   *persist.Store
	srv     *http.Server
	served  chan error
}

// root is the URL of the service's root, where /_emulator/ hangs.
func (in *instance) root() string { return strings.TrimSuffix(in.url, "api/v1/") }

// launch builds the emulator the configuration describes, listens and serves
// in the background, and prints the banner to out.
func launch(ctx context.Context, cfg config, out io.Writer) (_ *instance, err error) {
	in := &instance{emu: newEmulator(cfg), cfg: cfg, served: make(chan error, 1)}
	defer func() {
		if err != nil {
			_ = in.release()
		}
	}()
	sc := cfg.service
	in.emu.SetChaos(sc.chaosRate, sc.chaosSeed)
	if sc.addressFile != "" {
		_ = os.Remove(sc.addressFile) // a stale address must not pass for this run's
	}
	reset := func() error {
		in.emu.Reset()
		if sc.seed != nil {
			return sc.seed.Apply(in.emu)
		}
		return nil
	}
	var api http.Handler = in.emu
	ctl := control.Options{AdminToken: sc.adminToken, Reset: reset}
	restored := ""
	if sc.stateFile != "" {
		store, loaded, err := persist.Open(sc.stateFile, in.emu)
		if err != nil {
			return nil, err
		}
		in.store = store
		store.OnError = func(err error) { fmt.Fprintln(os.Stderr, "vpsorg-emulator:", err) }
		api, ctl.Changed = store.SaveAfter(api), store.SaveOrReport
		if loaded {
			restored = fmt.Sprintf("state: %s (restored %d servers)", sc.stateFile, len(in.emu.Snapshot().Servers))
		} else if err := reset(); err != nil {
			return nil, err
		}
		if err := store.Save(); err != nil {
			return nil, err
		}
	} else if err := reset(); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("/", api) // the API answers every other path, as it always has
	mux.Handle(control.Prefix, control.New(in.emu, ctl))
	mux.Handle(liveview.Path, liveview.New(in.emu))
	// The CA certificate, public, for a job that cannot share a file with
	// the emulator's container (GitHub Actions services).
	mux.HandleFunc("GET "+control.Prefix+"ca.pem", func(w http.ResponseWriter, _ *http.Request) {
		if in.caPEM == nil {
			http.Error(w, "The emulator is not in -tls mode.", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(in.caPEM)
	})

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.listen)
	if err != nil {
		return nil, err
	}
	in.url = emulator.BaseURL(ln.Addr())
	if sc.tls {
		if ln, err = in.listenTLS(ln); err != nil {
			return nil, err
		}
	}
	in.srv = sc.timeouts.httpServer(mux, in.emu)
	go func() { in.served <- in.srv.Serve(ln) }()
	if sc.addressFile != "" {
		if err := persist.WriteFile(sc.addressFile, []byte(in.url+"\n")); err != nil {
			_ = in.stop()
			return nil, err
		}
	}
	in.banner(out, restored)
	return in, nil
}

func (in *instance) banner(out io.Writer, restored string) {
	cfg := in.cfg
	fmt.Fprintf(out, "vpsorg-emulator listening on %s\n", in.url)
	if faults := cfg.faults(); faults != "" {
		fmt.Fprintf(out, "faults: %s\n", faults)
	}
	if s := cfg.service; s.chaosRate > 0 {
		fmt.Fprintf(out, "chaos: %g of requests fail at random, seed %d (replay with -chaos %g -chaos-seed %d)\n",
			s.chaosRate, s.chaosSeed, s.chaosRate, s.chaosSeed)
	}
	if in.caFile != "" {
		fmt.Fprintf(out, "TLS: CA certificate in %s (trust it with the provider's ca_file or VPSORG_CA_FILE)\n", in.caFile)
	}
	if restored != "" {
		fmt.Fprintln(out, restored)
	}
	access := "from loopback only; set -admin-token for other addresses"
	if cfg.service.adminToken != "" {
		access = "from loopback, or anywhere with the admin token"
	}
	fmt.Fprintf(out, "control API: %s_emulator/ (%s)\nlive view: %s\n", in.root(), access, in.root()+"_emulator/ui/")
	fmt.Fprintf(out, "provider \"vpsorg\" {\n  endpoint  = %q\n  api_token = %q\n}\n", in.url, cfg.tokens.order[0])
}

// wait serves until ctx ends or the server fails.
func (in *instance) wait(ctx context.Context) error {
	select {
	case err := <-in.served:
		return err
	case <-ctx.Done():
		return nil
	}
}

// stop shuts down gracefully, writes the journal if asked, and removes the
// address file; then releases what launch took.
func (in *instance) stop() error {
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := in.srv.Shutdown(shutdownCtx)
	if f := in.cfg.service.journalFile; f != "" {
		data, jerr := json.MarshalIndent(in.emu.Requests(), "", "  ")
		if jerr == nil {
			jerr = persist.WriteFile(f, append(data, '\n'))
		}
		err = errors.Join(err, jerr)
	}
	if f := in.cfg.service.addressFile; f != "" {
		_ = os.Remove(f)
	}
	return errors.Join(err, in.release())
}

// release gives up the state file's lock and removes temporary files; a
// second call does nothing.
func (in *instance) release() error {
	var err error
	if in.store != nil {
		err = in.store.Close()
	}
	if in.tempDir != "" {
		_ = os.RemoveAll(in.tempDir)
	}
	return err
}

// serve is the default command: the emulator until SIGINT or SIGTERM.
func serve(ctx context.Context, cfg config, stdout, stderr io.Writer) int {
	in, err := launch(ctx, cfg, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "vpsorg-emulator:", err)
		return 1
	}
	if err := in.wait(ctx); err != nil {
		fmt.Fprintln(stderr, "vpsorg-emulator:", err)
		_ = in.stop()
		return 1
	}
	if err := in.stop(); err != nil {
		fmt.Fprintln(stderr, "vpsorg-emulator: shutdown:", err)
		return 1
	}
	return 0
}
