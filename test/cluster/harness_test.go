package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"coffer/internal/testproc"
)

// cluster is n coffer nodes sharing one PostgreSQL database and one S3
// prefix, behind nginx.
type cluster struct {
	t        *testing.T
	pg, s3   *service
	metadata string // --metadata of every node
	blobs    string // --blobs of every node
	keyFile  string // the master key every node shares
	env      []string
	extra    []string // more flags of every node
	addrs    []string // each node's fixed listen address
	dataDirs []string
	nodes    []*testproc.Coffer
	lb       *nginx
	URL      string // the balancer, the nodes' public URL
}

// newCluster starts the servers, then n nodes at once (the first start of
// a cluster races to create the account and the schema) with extraArgs,
// then nginx.
func newCluster(t *testing.T, n int, extraArgs ...string) *cluster {
	t.Helper()
	c := newServers(t)
	c.startNodes(n, extraArgs...)
	return c
}

// newServers starts PostgreSQL and the S3 server of a cluster and chooses
// its storage settings and master key, without starting any node.
func newServers(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{t: t, pg: startService(t, "postgres.sh"), s3: startService(t, "s3server.sh")}
	c.metadata = c.pg.vars["COFFER_TEST_POSTGRES"]
	c.blobs = prefixed(c.s3.vars["COFFER_TEST_S3"], "cluster")
	c.env = []string{"AWS_ACCESS_KEY_ID=" + c.s3.vars["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY=" + c.s3.vars["AWS_SECRET_ACCESS_KEY"],
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true"}
	c.keyFile = testproc.MasterKeyFile(t)
	return c
}

// startNodes starts n nodes at once, then nginx in front of them.
func (c *cluster) startNodes(n int, extraArgs ...string) {
	t := c.t
	t.Helper()
	c.extra = extraArgs
	for range n {
		c.addrs = append(c.addrs, fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t)))
		c.dataDirs = append(c.dataDirs, t.TempDir())
	}
	// The balancer's address is the nodes' public URL; nginx starts once
	// they are up, so that its first requests do not mark them down.
	listen := fmt.Sprintf("127.0.0.1:%d", testproc.FreePort(t))
	c.URL = "http://" + listen
	c.nodes = make([]*testproc.Coffer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { c.nodes[i] = c.start(i) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	c.lb = startNginx(t, listen, c.addrs)
}

// prefixed is an s3:// URL with a fresh key prefix, so that each cluster
// has a bucket of its own in effect.
func prefixed(s3url, name string) string {
	base, query, _ := strings.Cut(s3url, "?")
	return fmt.Sprintf("%s/%s-%d/?%s", strings.TrimRight(base, "/"), name, time.Now().UnixNano(), query)
}

// start starts node i on its address with the cluster's storage.
func (c *cluster) start(i int, extra ...string) *testproc.Coffer {
	c.t.Helper()
	args := append([]string{"--listen", c.addrs[i], "--public-url", c.URL, "--metadata", c.metadata, "--blobs", c.blobs,
		"--master-key-file", c.keyFile}, c.extra...)
	args = append(args, extra...)
	return testproc.StartEnv(c.t, cofferBin, c.dataDirs[i], c.env, args...)
}

// credentials is the root credentials file, written by whichever node
// created the account.
func (c *cluster) credentials() string {
	c.t.Helper()
	p := c.credentialsOrEmpty()
	if p == "" {
		c.t.Fatal("no node wrote the root credentials")
	}
	return p
}

func (c *cluster) credentialsOrEmpty() string {
	for _, d := range c.dataDirs {
		if p := filepath.Join(d, "root-credentials"); fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// runner runs clients with the root credentials and an isolated HOME.
func (c *cluster) runner() *testproc.Runner {
	c.t.Helper()
	home := c.t.TempDir()
	cfg := filepath.Join(home, "aws-config")
	if err := os.WriteFile(cfg, []byte("[profile coffer]\nregion = us-east-1\n"), 0o600); err != nil {
		c.t.Fatal(err)
	}
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") && !strings.HasPrefix(e, "HOME=") && !strings.HasPrefix(e, "npm_") {
			env = append(env, e)
		}
	}
	env = append(env, "HOME="+home, "AWS_CONFIG_FILE="+cfg, "AWS_SHARED_CREDENTIALS_FILE="+c.credentials(),
		"AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true")
	return &testproc.Runner{T: c.t, Env: env}
}

// sql runs statements on the cluster's database (to look at what the
// nodes wrote).
func (c *cluster) sql(query string, args ...any) pgx.Rows {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	c.t.Cleanup(cancel)
	conn, err := pgx.Connect(ctx, c.metadata)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { conn.Close(context.Background()) })
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return rows
}

// nginx is a running nginx balancing round-robin over the nodes.
type nginx struct {
	URL string
	cmd *exec.Cmd
}

// nginxConf fronts the nodes the way README.md's "Running several nodes"
// shows: Host passed through unchanged (SigV4 signs it), request and
// response bodies streamed, no body size limit (coffer enforces its own).
const nginxConf = `%s
worker_processes 2;
error_log %[2]s/error.log warn;
pid %[2]s/nginx.pid;
events { worker_connections 2048; }
http {
    access_log off;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    upstream coffer {
%[3]s        keepalive 64;
    }
    server {
        listen %[4]s;
        client_max_body_size 0;
        proxy_request_buffering off;
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_read_timeout 600s;
        proxy_send_timeout 600s;
        location / {
            proxy_pass http://coffer;
            proxy_set_header Host $http_host;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }
    }
}
`

// startNginx runs nginx in the foreground on a free port.
func startNginx(t *testing.T, listen string, addrs []string) *nginx {
	t.Helper()
	bin := testproc.Need(t, "nginx")
	dir := t.TempDir()
	var servers strings.Builder
	for _, a := range addrs {
		fmt.Fprintf(&servers, "        server %s max_fails=1 fail_timeout=2s;\n", a)
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers must read the temp dirs of a root test
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, user, dir, servers.String(), listen), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-g", "daemon off;")
	// A file, not a pipe: the workers inherit it, and a pipe would keep
	// Wait waiting for them. Its own process group, so that the workers
	// stop with the master.
	out, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			a, _ := os.ReadFile(filepath.Join(dir, "stderr.log"))
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx:\n%s%s", a, b)
		}
	})
	n := &nginx{URL: "http://" + listen, cmd: cmd}
	waitFor(t, "nginx", func() bool { return status(n.URL+"/healthz") == http.StatusOK })
	return n
}
