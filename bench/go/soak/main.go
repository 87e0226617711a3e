// soak: a long mixed load against a real coffer process, with a hostile
// upstream and hostile clients beside the well-formed clients, measuring
// whether coffer stays correct (no 5xx to a well-formed request) and
// bounded (peak RSS, goroutines and file descriptors back to where they
// were once the load stops). Loopback only: every server here and coffer
// listen on 127.0.0.1. See bench/README.md (section bench/soak.sh).
//
//	soak -coffer BIN -data DIR [-duration 10m] [-clients 200] [flags]
//
// What it does, in order:
//
//  1. Starts the hostile upstream (an npm registry and a PyPI index on two
//     loopback ports, upstream.go) and a "victim" server on a third port
//     that no upstream may make coffer reach.
//  2. Starts `coffer serve --listen 127.0.0.1:PORT --data-dir DIR
//     --external-connection public:npmjs=http://127.0.0.1:A/
//     --external-connection public:pypi=http://127.0.0.1:B/simple/`
//     (its output to -log), waits for /readyz, reads the root
//     key from DIR/root-credentials.
//  3. Creates domain soak, repositories npm-store (public:npmjs),
//     pypi-store (public:pypi) and work (upstreams npm-store, pypi-store),
//     gets an authorization token, and seeds work with generic versions, npm
//     packages, PyPI wheels and Maven artifacts.
//  4. Warm-up: every client runs a few operations of the well-formed mix
//     (so that connection and database pools are at their working size),
//     then idle connections are closed and, after the drain, the "start"
//     reading is taken: go_goroutines from /metrics, the count of
//     /proc/<pid>/fd, VmRSS and VmHWM.
//  5. Load for -duration: -clients well-formed clients (workload.go), the
//     hostile upstream readers and the hostile clients (hostile.go). VmRSS
//     is sampled every second, the "middle" reading taken at half time, a
//     progress report printed every -progress.
//  6. Stop: the hostile traffic is cut at the deadline, the well-formed
//     clients finish the request under way; the upstream handlers return
//     and drop their keep-alive connections, the clients close their idle
//     connections; after -drain the "end" reading is taken (re-read every
//     second for up to -settle while it is above the margins).
//  7. A "late" reading -late after the load (once the runtime's periodic
//     GC ran: Go heap in use is then what coffer keeps), the report, the
//     checks, coffer stopped with SIGTERM (and SIGKILL after 30 s).
//
// Checks (exit status 1 when one fails):
//   - no 5xx and no missing answer (transport error, timeout) to a
//     well-formed request, warm-up included;
//   - no 500 to any request (hostile ones may get 4xx, 502, 503, 504);
//   - the victim received no request;
//   - end goroutines <= start + margin, end fds <= start + margin;
//   - peak RSS (VmHWM, and the per-second VmRSS samples) <= -rss-limit-mib;
//   - no file left in the data dir's spool/ and blobs/tmp/;
//   - slow bodies without valid credentials are refused while they trickle
//     or stall; a header block sent a byte at a time is cut (when -slow-max
//     exceeds -header-timeout by 5 s); a refused large body is answered
//     before -big-early-mib of it were sent.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

type config struct {
	coffer, dataDir, logFile, out string
	logLevel                      string
	duration, progress            time.Duration
	clients, warmupOps            int
	drain, settle, wfTimeout      time.Duration
	late, headerTimeout           time.Duration
	rssLimitMiB                   int64
	gorMargin, fdMargin           int
	hugeMiB                       int
	bigEarlyMiB                   int64
	hostile                       hostileConfig
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("soak: ")
	var c config
	var bigMiB int
	flag.StringVar(&c.coffer, "coffer", "", "coffer binary (required)")
	flag.StringVar(&c.dataDir, "data", "", "coffer data dir, empty or absent (required)")
	flag.StringVar(&c.logFile, "log", "", "coffer's log file (default <data>.log)")
	flag.StringVar(&c.out, "out", "", "write the results as JSON to this file")
	flag.StringVar(&c.logLevel, "log-level", "warn", "coffer --log-level")
	flag.DurationVar(&c.duration, "duration", 10*time.Minute, "load duration")
	flag.DurationVar(&c.progress, "progress", 30*time.Second, "progress report interval")
	flag.IntVar(&c.clients, "clients", 200, "concurrent well-formed clients")
	flag.IntVar(&c.warmupOps, "warmup-ops", 5, "operations per client in the warm-up (not counted)")
	flag.DurationVar(&c.drain, "drain", 5*time.Second, "wait between the end of the load (and the warm-up) and the reading")
	flag.DurationVar(&c.settle, "settle", 30*time.Second, "after the drain, re-read for up to this long while above the margins")
	flag.DurationVar(&c.late, "late", 130*time.Second, "one more reading this long after the load stopped, once the runtime's periodic GC (2 min) ran; 0: none")
	flag.DurationVar(&c.wfTimeout, "wf-timeout", 60*time.Second, "timeout of one well-formed request")
	flag.Int64Var(&c.rssLimitMiB, "rss-limit-mib", 1024, "peak RSS bound (MiB)")
	flag.IntVar(&c.gorMargin, "goroutine-margin", 0, "allowed goroutine growth start->end (0: max(25, 10% of start))")
	flag.IntVar(&c.fdMargin, "fd-margin", 0, "allowed fd growth start->end (0: max(10, 10% of start))")
	flag.IntVar(&c.hugeMiB, "huge-mib", 100, "size of the huge upstream documents (MiB)")
	flag.IntVar(&c.hostile.readers, "up-readers", 8, "concurrent readers of hostile upstream packages")
	flag.IntVar(&c.hostile.hugeConc, "huge-conc", 3, "of which at most this many read a huge document")
	flag.DurationVar(&c.hostile.readTimeout, "up-timeout", 150*time.Second, "timeout of one hostile upstream read")
	flag.IntVar(&c.hostile.slowClients, "slow-clients", 16, "concurrent slow-body clients")
	flag.DurationVar(&c.hostile.slowEvery, "slow-every", 3*time.Second, "a slow body sends one byte this often")
	flag.DurationVar(&c.hostile.slowMax, "slow-max", 45*time.Second, "a slow body is abandoned after this long")
	flag.IntVar(&c.hostile.bigClients, "big-clients", 4, "concurrent large-body clients")
	flag.IntVar(&bigMiB, "big-mib", 64, "size of a large hostile body (MiB)")
	flag.DurationVar(&c.hostile.bigTimeout, "big-timeout", 60*time.Second, "bound of one large-body exchange")
	flag.DurationVar(&c.headerTimeout, "header-timeout", 30*time.Second, "coffer's header timeout: a header block sent a byte at a time must be cut by then (checked when -slow-max is longer)")
	flag.Int64Var(&c.bigEarlyMiB, "big-early-mib", 16, "a refused large body must be answered before the client sent this much (MiB)")
	var upKindsFlag, upFormatsFlag, slowFlag, bigFlag string
	flag.StringVar(&upFormatsFlag, "up-formats", strings.Join(upFormats, ","), "hostile upstreams to read from (comma-separated)")
	flag.StringVar(&upKindsFlag, "up-kinds", strings.Join(upKinds, ","), "hostile upstream behaviours to ask for (comma-separated)")
	flag.StringVar(&slowFlag, "slow-targets", strings.Join(slowTargets, ","), "slow-body targets (comma-separated)")
	flag.StringVar(&bigFlag, "big-targets", strings.Join(bigTargets, ","), "large-body targets (comma-separated)")
	flag.Parse()
	var err error
	if upFormats, err = subset("up-formats", upFormatsFlag, upFormats); err != nil {
		log.Fatal(err)
	}
	if upKinds, err = subset("up-kinds", upKindsFlag, upKinds); err == nil {
		if slowTargets, err = subset("slow-targets", slowFlag, slowTargets); err == nil {
			bigTargets, err = subset("big-targets", bigFlag, bigTargets)
		}
	}
	if err != nil {
		log.Fatal(err)
	}
	c.hostile.bigBytes = int64(bigMiB) << 20
	if c.coffer == "" || c.dataDir == "" {
		log.Fatal("-coffer and -data are required")
	}
	if c.logFile == "" {
		c.logFile = strings.TrimRight(c.dataDir, "/") + ".log"
	}
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	code, err := run(ctx, c)
	if err != nil {
		log.Print(err)
		if code == 0 {
			code = 2
		}
	}
	os.Exit(code)
}

// subset parses a comma-separated selection of all.
func subset(name, list string, all []string) ([]string, error) {
	var out []string
	for _, k := range strings.Split(list, ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		if !slices.Contains(all, k) {
			return nil, fmt.Errorf("-%s: %q is not one of %s", name, k, strings.Join(all, ","))
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-%s: empty (set the number of clients to 0 instead)", name)
	}
	return out, nil
}

// cofferProc is the coffer child process.
type cofferProc struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
	err  error
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startCoffer(ctx context.Context, c config, u *hostileUpstream) (*cofferProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(c.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	// API limits off: the well-formed clients are one principal calling in
	// a closed loop without retries, far above the default rates.
	cmd := exec.Command(c.coffer, "serve", "--listen", addr, "--data-dir", c.dataDir, "--log-level", c.logLevel,
		"--external-connection", "public:npmjs="+u.npmURL, "--external-connection", "public:pypi="+u.pypiURL, "--api-rate-limits", "off")
	cmd.Stdout, cmd.Stderr = logf, logf
	// Whatever happens to the soak, coffer does not outlive it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// No proxy: coffer's upstream client honours the proxy environment.
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToLower(k) {
		case "http_proxy", "https_proxy", "all_proxy", "no_proxy":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	log.Printf("starting %s", strings.Join(cmd.Args, " "))
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &cofferProc{cmd: cmd, base: "http://" + addr, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); logf.Close(); close(p.done) }()
	if pidFile := os.Getenv("SOAK_COFFER_PIDFILE"); pidFile != "" {
		os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644)
	}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	deadline := time.Now().Add(120 * time.Second)
	for {
		select {
		case <-p.done:
			return nil, fmt.Errorf("coffer exited during start-up (%v); see %s", p.err, c.logFile)
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		default:
		}
		if resp, err := hc.Get(p.base + "/readyz"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, errors.New("coffer not ready after 120 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM, then SIGKILL after 30 s; it returns how long coffer
// took to exit.
func (p *cofferProc) stop() time.Duration {
	start := time.Now()
	select {
	case <-p.done:
		return 0
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		log.Print("coffer did not exit 30 s after SIGTERM; SIGKILL")
		p.cmd.Process.Kill()
		<-p.done
	}
	return time.Since(start)
}

func (p *cofferProc) pid() int { return p.cmd.Process.Pid }

func loadCreds(path string) (aws.Credentials, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return aws.Credentials{}, err
	}
	var c aws.Credentials
	in := false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			in = strings.Trim(line, "[] ") == "coffer"
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !in || !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			c.AccessKeyID = strings.TrimSpace(v)
		case "aws_secret_access_key":
			c.SecretAccessKey = strings.TrimSpace(v)
		}
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return c, fmt.Errorf("%s: no key pair in profile [coffer]", path)
	}
	return c, nil
}

// ---------------------------------------------------------------- run

type results struct {
	Duration       string              `json:"duration"`
	Clients        int                 `json:"clients"`
	Start          snapshot            `json:"start"`
	Middle         snapshot            `json:"middle"`
	End            snapshot            `json:"end"`
	EndAfter       string              `json:"end_after_load"`
	LoadEnd        time.Time           `json:"load_end"`
	MaxRSSKiB      int64               `json:"max_vmrss_kib"`
	PeakHWMKiB     int64               `json:"peak_vmhwm_kib"`
	GorMargin      int                 `json:"goroutine_margin"`
	FDMargin       int                 `json:"fd_margin"`
	VictimHits     int64               `json:"victim_hits"`
	WellFormed5xx  int64               `json:"well_formed_5xx"`
	WellFormedErrs int64               `json:"well_formed_no_answer"`
	WellFormed4xx  int64               `json:"well_formed_4xx"`
	Late           *snapshot           `json:"late,omitempty"`
	Any500         int64               `json:"status_500_any_class"`
	Leftovers      []string            `json:"leftover_temp_files"`
	Classes        map[string]classOut `json:"classes"`
	Failures       []string            `json:"failures"`
	Shutdown       string              `json:"shutdown"`
	Upstream       string              `json:"upstream_served"`
}

type classOut struct {
	Kind     string            `json:"kind"`
	N        int64             `json:"n"`
	Rate     float64           `json:"per_s"`
	P50      float64           `json:"p50_ms"`
	P99      float64           `json:"p99_ms"`
	Max      float64           `json:"max_ms"`
	Bytes    int64             `json:"bytes"`
	MaxSent  int64             `json:"max_sent_before_answer,omitempty"`
	Outcomes map[outcome]int64 `json:"outcomes"`
}

func run(ctx context.Context, c config) (int, error) {
	u, err := startHostileUpstream(c.hugeMiB)
	if err != nil {
		return 2, err
	}
	defer u.close()
	if slices.Contains(upKinds, "gzipbomb") {
		t := time.Now()
		log.Printf("gzip bomb: %d bytes, made in %v", len(u.bomb()), time.Since(t).Round(time.Millisecond))
	}
	log.Printf("hostile upstream: npm %s, pypi %s; victim %s", u.npmURL, u.pypiURL, u.victim.addr)
	p, err := startCoffer(ctx, c, u)
	if err != nil {
		return 2, err
	}
	var shutdown time.Duration
	stopped := false
	defer func() {
		if !stopped {
			p.stop()
		}
	}()
	pid := p.pid()
	log.Printf("coffer pid %d at %s, log %s", pid, p.base, c.logFile)
	creds, err := loadCreds(filepath.Join(c.dataDir, "root-credentials"))
	if err != nil {
		return 2, err
	}
	e := newEnv(p.base, creds, c.wfTimeout)
	setupCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := e.setup(setupCtx); err != nil {
		return 2, fmt.Errorf("setup: %w", err)
	}
	t0 := time.Now()
	if err := e.seed(setupCtx); err != nil {
		return 2, fmt.Errorf("seeding: %w", err)
	}
	log.Printf("seeded in %v: %d generic versions, %d npm versions, %d PyPI projects (%d files), %d Maven versions; endpoints %v",
		time.Since(t0).Round(time.Millisecond), len(e.known.generic), len(e.known.npm), len(e.known.pypi), len(e.known.pyFiles), len(e.known.maven), e.ep)

	metricsHC := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	res := results{Duration: c.duration.String(), Clients: c.clients, Classes: map[string]classOut{}}

	// Warm-up.
	t0 = time.Now()
	var wg sync.WaitGroup
	for w := range c.clients {
		wg.Go(func() { e.worker(ctx, w, c.warmupOps) })
	}
	wg.Wait()
	warm := checkWellFormed()
	log.Printf("warm-up: %d operations per client in %v; well-formed 5xx %d, no answer %d", c.warmupOps,
		time.Since(t0).Round(time.Millisecond), warm.fiveXX, warm.errs)
	for _, s := range warm.samples {
		log.Printf("  warm-up failure: %s", s)
	}
	res.WellFormed5xx, res.WellFormedErrs = warm.fiveXX, warm.errs
	reg = &registry{classes: map[string]*class{}} // the load is counted from here
	e.closeIdle()
	sleepCtx(ctx, c.drain)
	if ctx.Err() != nil {
		return 130, ctx.Err()
	}
	res.Start, err = takeSnapshot(metricsHC, p.base, pid)
	if err != nil {
		return 2, fmt.Errorf("start reading: %w", err)
	}
	log.Printf("start (after warm-up and a %v drain): %s", c.drain, res.Start)

	// Load.
	sampler := &rssSampler{pid: pid}
	samplerCtx, stopSampler := context.WithCancel(context.Background())
	go sampler.run(samplerCtx)
	load, stopLoad := context.WithCancelCause(ctx)
	loadStart := time.Now()
	timer := time.AfterFunc(c.duration, func() { stopLoad(errLoadOver) })
	defer timer.Stop()
	var hostile sync.WaitGroup
	hugeSem := make(chan struct{}, max(1, c.hostile.hugeConc))
	for range c.hostile.readers {
		hostile.Go(func() { e.upstreamReader(load, c.hostile, hugeSem) })
	}
	for range c.hostile.slowClients {
		hostile.Go(func() { e.slowClient(load, c.hostile) })
	}
	for range c.hostile.bigClients {
		hostile.Go(func() { e.bigClient(load, c.hostile) })
	}
	var workers sync.WaitGroup
	for w := range c.clients {
		workers.Go(func() { e.worker(load, w, 0) })
	}
	log.Printf("load: %d well-formed clients, %d hostile upstream readers (%d huge at once, %d MiB), %d slow-body clients, %d large-body clients (%d MiB), for %v",
		c.clients, c.hostile.readers, c.hostile.hugeConc, c.hugeMiB, c.hostile.slowClients, c.hostile.bigClients, c.hostile.bigBytes>>20, c.duration)
	middleAt := time.After(c.duration / 2)
	tick := time.NewTicker(c.progress)
	lastTick := loadStart
	for load.Err() == nil {
		select {
		case <-load.Done():
		case <-middleAt:
			if s, err := takeSnapshot(metricsHC, p.base, pid); err == nil {
				res.Middle = s
				log.Printf("middle (%v): %s", time.Since(loadStart).Round(time.Second), s)
			} else {
				log.Printf("middle reading: %v", err)
			}
		case now := <-tick.C:
			progress(metricsHC, p, sampler, loadStart, now.Sub(lastTick))
			lastTick = now
		case <-p.done:
			stopLoad(fmt.Errorf("coffer exited: %v", p.err))
		}
	}
	tick.Stop()
	if cause := context.Cause(load); !errors.Is(cause, errLoadOver) {
		log.Printf("load stopped early: %v", cause)
	}
	loadEnd := time.Now()
	res.LoadEnd = loadEnd
	log.Printf("load over after %v; waiting for the clients to finish the request under way", loadEnd.Sub(loadStart).Round(time.Millisecond))
	if !waitTimeout(&hostile, 30*time.Second) {
		log.Print("hostile clients still running 30 s after the deadline")
	}
	if !waitTimeout(&workers, c.wfTimeout+30*time.Second) {
		log.Print("well-formed clients still running after their timeout")
	}
	loadElapsed := time.Since(loadStart)
	u.stopServing()
	e.closeIdle()
	sleepCtx(ctx, c.drain)
	stopSampler()
	res.GorMargin, res.FDMargin = c.gorMargin, c.fdMargin
	if res.GorMargin <= 0 {
		res.GorMargin = max(25, res.Start.Goroutines/10)
	}
	if res.FDMargin <= 0 {
		res.FDMargin = max(10, res.Start.FDs/10)
	}
	settleEnd := time.Now().Add(c.settle)
	for {
		res.End, err = takeSnapshot(metricsHC, p.base, pid)
		if err != nil {
			return 2, fmt.Errorf("end reading: %w", err)
		}
		if (res.End.Goroutines <= res.Start.Goroutines+res.GorMargin && res.End.FDs <= res.Start.FDs+res.FDMargin) ||
			time.Now().After(settleEnd) || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Second)
	}
	res.EndAfter = res.End.At.Sub(loadEnd).Round(100 * time.Millisecond).String()
	log.Printf("end (%s after the load stopped): %s", res.EndAfter, res.End)
	res.MaxRSSKiB = sampler.maxRSS.Load()
	res.PeakHWMKiB = res.End.HWMKiB
	res.VictimHits = u.victim.hits.Load()
	res.Upstream = u.servedSummary()
	res.Leftovers = leftovers(c.dataDir)
	if c.late > 0 {
		log.Printf("waiting for the late reading, %v after the load stopped", c.late)
		sleepCtx(ctx, time.Until(loadEnd.Add(c.late)))
		if s, err := takeSnapshot(metricsHC, p.base, pid); err == nil {
			res.Late = &s
			log.Printf("late (%v after the load stopped): %s", s.At.Sub(loadEnd).Round(time.Second), s)
		}
	}

	shutdown = p.stop()
	stopped = true
	res.Shutdown = fmt.Sprintf("%v (%v)", shutdown.Round(time.Millisecond), p.err)

	report(&res, loadElapsed, c)
	logSummary(c.logFile)
	if c.out != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(c.out, b, 0o644); err != nil {
			log.Print(err)
		}
	}
	if len(res.Failures) > 0 {
		fmt.Printf("\nFAIL (%d):\n", len(res.Failures))
		for _, f := range res.Failures {
			fmt.Printf("  - %s\n", f)
		}
		return 1, nil
	}
	fmt.Println("\nPASS")
	return 0, nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

type wfCheck struct {
	fiveXX, errs, any500, fourXX int64
	samples                      []string
}

func checkWellFormed() wfCheck {
	var w wfCheck
	for _, c := range reg.all() {
		_, outs, _, _, _, samples := c.snapshot()
		for o, n := range outs {
			if o == "500" {
				w.any500 += n
			}
			if c.kind != kindWell {
				continue
			}
			switch {
			case o.is5xx():
				w.fiveXX += n
			case o.isErr():
				w.errs += n
			case o.status() >= 400:
				w.fourXX += n
			}
		}
		if c.kind == kindWell {
			for _, s := range samples {
				w.samples = append(w.samples, c.name+" "+s)
			}
		}
	}
	return w
}

// leftovers lists the files left in coffer's spool and blob staging dirs.
func leftovers(dataDir string) []string {
	var out []string
	for _, d := range []string{"spool", filepath.Join("blobs", "tmp")} {
		es, err := os.ReadDir(filepath.Join(dataDir, d))
		if err != nil {
			continue
		}
		for _, e := range es {
			out = append(out, filepath.Join(d, e.Name()))
		}
	}
	return out
}

// ---------------------------------------------------------------- reports

func progress(hc *http.Client, p *cofferProc, s *rssSampler, loadStart time.Time, since time.Duration) {
	g, heap, gerr := goMetrics(hc, p.base)
	fds, _ := fdCount(p.pid())
	hwm, _ := procStatusKiB(p.pid(), "VmHWM")
	w := checkWellFormed()
	gs := strconv.Itoa(g)
	if gerr != nil {
		gs = "? (" + gerr.Error() + ")"
	}
	fmt.Printf("\n[soak +%v] VmRSS %d MiB (max sampled %d, VmHWM %d), Go heap in use %d MiB, goroutines %s, fds %d; well-formed 5xx %d, no answer %d; any 500 %d\n",
		time.Since(loadStart).Round(time.Second), s.last.Load()>>10, s.maxRSS.Load()>>10, hwm>>10, heap>>20, gs, fds, w.fiveXX, w.errs, w.any500)
	secs := since.Seconds()
	for _, c := range reg.all() {
		if c.kind == kindMaintenance {
			continue
		}
		n, outs, _, _, _, _ := c.snapshot()
		c.mu.Lock()
		delta := n - c.lastN
		c.lastN = n
		c.mu.Unlock()
		fmt.Printf("  %-34s %8d %7.1f/s  %s\n", c.name, n, float64(delta)/secs, formatOutcomes(outs))
	}
}

func report(res *results, elapsed time.Duration, c config) {
	secs := elapsed.Seconds()
	fmt.Printf("\n==== soak results: %v of load (%v configured), %d well-formed clients ====\n", elapsed.Round(time.Second), c.duration, c.clients)
	fmt.Printf("%-34s %-11s %9s %8s %9s %9s %9s %9s  %s\n", "class", "kind", "requests", "req/s", "p50", "p99", "max", "MiB", "outcomes")
	var totals = map[string]int64{}
	for _, cl := range reg.all() {
		n, outs, h, bytes, maxSent, _ := cl.snapshot()
		totals[cl.kind] += n
		res.Classes[cl.name] = classOut{Kind: cl.kind, N: n, Rate: round1(float64(n) / secs), P50: msf(h.quantile(0.5)), P99: msf(h.quantile(0.99)),
			Max: msf(h.max), Bytes: bytes, MaxSent: maxSent, Outcomes: outs}
		extra := ""
		if maxSent > 0 {
			extra = fmt.Sprintf("  (at most %.1f MiB sent before the answer)", float64(maxSent)/(1<<20))
		}
		fmt.Printf("%-34s %-11s %9d %8.1f %9s %9s %9s %9.1f  %s%s\n", cl.name, cl.kind, n, float64(n)/secs,
			ms(h.quantile(0.5)), ms(h.quantile(0.99)), ms(h.max), float64(bytes)/(1<<20), formatOutcomes(outs), extra)
	}
	fmt.Printf("totals: well-formed %d (%.1f/s), hostile upstream reads %d, hostile client requests %d\n",
		totals[kindWell], float64(totals[kindWell])/secs, totals[kindUpstream], totals[kindClient])

	w := checkWellFormed()
	res.WellFormed5xx += w.fiveXX
	res.WellFormedErrs += w.errs
	res.Any500 = w.any500
	res.WellFormed4xx = w.fourXX
	fmt.Printf("\nwell-formed requests answered 5xx: %d; without an answer: %d; status 500 in any class: %d; well-formed 4xx (not a check): %d\n",
		res.WellFormed5xx, res.WellFormedErrs, res.Any500, w.fourXX)
	for _, s := range w.samples {
		fmt.Printf("  e.g. %s\n", s)
	}
	for _, cl := range reg.all() {
		if cl.kind == kindWell {
			continue
		}
		_, _, _, _, _, samples := cl.snapshot()
		for _, s := range samples {
			fmt.Printf("  500 in %s: %s\n", cl.name, s)
		}
	}
	fmt.Printf("coffer resources (start = after warm-up + %v drain; end = %s after the load stopped):\n", c.drain, res.EndAfter)
	fmt.Printf("  start:  %s\n  middle: %s\n  end:    %s\n", res.Start, res.Middle, res.End)
	if res.Late != nil {
		fmt.Printf("  late:   %s (%v after the load stopped; not a check)\n", res.Late, res.Late.At.Sub(res.LoadEnd).Round(time.Second))
	}
	fmt.Printf("  peak RSS: VmHWM %d MiB, max VmRSS sampled each second %d MiB (bound %d MiB)\n", res.PeakHWMKiB>>10, res.MaxRSSKiB>>10, c.rssLimitMiB)
	fmt.Printf("  goroutines %d -> %d (margin %d), fds %d -> %d (margin %d)\n", res.Start.Goroutines, res.End.Goroutines, res.GorMargin,
		res.Start.FDs, res.End.FDs, res.FDMargin)
	fmt.Printf("victim requests (SSRF through the upstream): %d\n", res.VictimHits)
	fmt.Printf("hostile upstream served: %s\n", res.Upstream)
	fmt.Printf("temp files left in spool/ and blobs/tmp/: %d %v\n", len(res.Leftovers), res.Leftovers)
	fmt.Printf("coffer shutdown after SIGTERM: %s\n", res.Shutdown)

	fail := func(format string, a ...any) { res.Failures = append(res.Failures, fmt.Sprintf(format, a...)) }
	if res.WellFormed5xx > 0 {
		fail("%d well-formed requests were answered 5xx", res.WellFormed5xx)
	}
	if res.WellFormedErrs > 0 {
		fail("%d well-formed requests got no answer (transport error or timeout)", res.WellFormedErrs)
	}
	if res.Any500 > 0 {
		fail("%d requests were answered 500 (a server fault, whatever the request)", res.Any500)
	}
	if res.VictimHits > 0 {
		fail("the victim server received %d requests through coffer", res.VictimHits)
	}
	if res.End.Goroutines > res.Start.Goroutines+res.GorMargin {
		fail("goroutines %d at the end, %d at the start (margin %d)", res.End.Goroutines, res.Start.Goroutines, res.GorMargin)
	}
	if res.End.FDs > res.Start.FDs+res.FDMargin {
		fail("fds %d at the end, %d at the start (margin %d)", res.End.FDs, res.Start.FDs, res.FDMargin)
	}
	if peak := max(res.PeakHWMKiB, res.MaxRSSKiB) >> 10; peak > c.rssLimitMiB {
		fail("peak RSS %d MiB over the bound of %d MiB", peak, c.rssLimitMiB)
	}
	if len(res.Leftovers) > 0 {
		fail("%d temp files left in spool/ or blobs/tmp/", len(res.Leftovers))
	}
	// Hostile clients: a refusal that does not depend on the body must come
	// while the body is still being sent; a header block must not take
	// longer than the server's header timeout.
	names := make([]string, 0, len(res.Classes))
	for name := range res.Classes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		co := res.Classes[name]
		switch {
		case name == "hc.slow.headers":
			if n := co.Outcomes["abandoned"] + co.Outcomes["sent"]; n > 0 && c.hostile.slowMax > c.headerTimeout+5*time.Second {
				fail("%s: %d connections sent headers for %v without being closed", name, n, c.hostile.slowMax)
			}
		case refusedEarly[strings.TrimPrefix(name, "hc.slow.")]:
			if n := co.Outcomes["abandoned"]; n > 0 {
				fail("%s: %d slow bodies without valid credentials were never refused (no answer in %v while the body trickled or stalled)", name, n, c.hostile.slowMax)
			}
		case strings.HasPrefix(name, "hc.big."):
			if co.MaxSent > c.bigEarlyMiB<<20 {
				fail("%s: the refusal came after %.1f MiB of the body (bound %d MiB)", name, float64(co.MaxSent)/(1<<20), c.bigEarlyMiB)
			}
			if n := co.Outcomes["err:timeout"]; n > 0 {
				fail("%s: %d large bodies were not answered within %v", name, n, c.hostile.bigTimeout)
			}
		}
	}
}

// refusedEarly are the slow-body targets without valid credentials: coffer
// can refuse them from the headers alone.
var refusedEarly = map[string]bool{"npm-noauth": true, "npm-noauth-stalled": true, "npm-noauth-small": true,
	"npm-noauth-small-stalled": true, "cp-badsig": true}

func msf(d time.Duration) float64 { return round1(float64(d) / 1e6) }
func round1(x float64) float64    { return float64(int64(x*10+0.5)) / 10 }

// logSummary counts coffer's ERROR and WARN log lines by message.
func logSummary(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var m struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			if line := sc.Text(); strings.TrimSpace(line) != "" {
				counts["(not JSON) "+firstN(line, 120)]++
			}
			continue
		}
		if m.Level == "ERROR" || m.Level == "WARN" {
			counts[m.Level+" "+m.Msg]++
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return counts[keys[i]] > counts[keys[j]] })
	fmt.Printf("coffer log %s: %d distinct WARN/ERROR messages\n", path, len(keys))
	for i, k := range keys {
		if i == 15 {
			fmt.Printf("  ... %d more\n", len(keys)-15)
			break
		}
		fmt.Printf("  %7d  %s\n", counts[k], k)
	}
}

func firstN(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
