package hardening

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	catypes "github.com/aws/aws-sdk-go-v2/service/codeartifact/types"
)

// TestOrphanBlobsCollectedAfterKill: a coffer killed with SIGKILL between
// a blob's commit and the transaction that records it leaves a blob that no
// asset references; one killed while an upload streams leaves a staging
// file. After a restart the staging area is empty, an unreferenced blob older
// than the grace period (1 h) is deleted by the start-up collection, a
// younger one is kept (its upload may still be recording it), and every
// referenced blob, however old, is kept and downloads byte-identical.
func TestOrphanBlobsCollectedAfterKill(t *testing.T) {
	dataDir := t.TempDir()
	blobs := filepath.Join(dataDir, "blobs")
	c := startCoffer(t, dataDir)
	ca := caClient(t, c.URL, rootCreds(t, dataDir))
	ctx := context.Background()
	if _, err := ca.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("orph")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String("orph"), Repository: aws.String("repo")}); err != nil {
		t.Fatal(err)
	}
	kept := orphanRandom(t, 300<<10)
	if _, err := ca.PublishPackageVersion(ctx, &codeartifact.PublishPackageVersionInput{Domain: aws.String("orph"), Repository: aws.String("repo"),
		Format: catypes.PackageFormatGeneric, Namespace: aws.String("ns"), Package: aws.String("kept"), PackageVersion: aws.String("1.0.0"),
		AssetName: aws.String("kept.bin"), AssetContent: bytes.NewReader(kept), AssetSHA256: aws.String(orphanSHA(kept))}); err != nil {
		t.Fatal(err)
	}

	// SIGKILL while a large upload streams: once its staging file exists,
	// the upload is inside its handler.
	big := orphanRandom(t, 8<<20)
	pr, pw := io.Pipe()
	req := orphanPublishRequest(t, c.URL, dataDir, "killed", "big.bin", pr, orphanSHA(big))
	sent := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			err = fmt.Errorf("answered %d before the body was complete: %s", resp.StatusCode, b)
		}
		pr.CloseWithError(err)
		sent <- err
	}()
	if _, err := pw.Write(big[:4<<20]); err != nil {
		t.Fatalf("sending the first half of the upload: %v", err)
	}
	tmp := filepath.Join(blobs, "tmp")
	deadline := time.Now().Add(10 * time.Second)
	for orphanCount(t, tmp) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the upload has no staging file 10 s after half its body was sent")
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
	if err := c.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done:
	case <-time.After(30 * time.Second):
		t.Fatal("coffer did not die of SIGKILL within 30 s")
	}
	pw.CloseWithError(errors.New("server killed"))
	if err := <-sent; err == nil {
		t.Fatal("the upload of a killed server succeeded")
	}
	if orphanCount(t, tmp) == 0 {
		t.Fatal("the killed upload left no staging file: the kill came too late to test anything")
	}

	// What a SIGKILL between Commit and the metadata transaction leaves: a
	// committed blob nobody references, here two hours old. A young one may
	// belong to an upload that is still being recorded.
	orphan := []byte("committed, then the process was killed before its transaction\n")
	young := []byte("committed a minute ago; its transaction may still be running\n")
	oldPath := orphanPlant(t, blobs, orphan, 2*time.Hour)
	youngPath := orphanPlant(t, blobs, young, time.Minute)
	// Referenced blobs are kept however old they are.
	keptPath := orphanBlobPath(blobs, orphanSHA(kept))
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(keptPath, old, old); err != nil {
		t.Fatalf("the published asset's blob is not where the filesystem driver keeps it: %v", err)
	}

	c2 := startCoffer(t, dataDir)
	if n := orphanCount(t, tmp); n != 0 {
		t.Errorf("%d staging files left in blobs/tmp after restart", n)
	}
	// The start-up pass logs what it collected.
	logged := regexp.MustCompile(`msg="collected orphan blobs" count=(\d+) bytes=(\d+)`)
	var m []string
	for deadline := time.Now().Add(30 * time.Second); ; {
		if m = logged.FindStringSubmatch(c2.Logs.String()); m != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no orphan collection logged within 30 s of start; the orphan is still there: %v", orphanExists(t, oldPath))
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
	if want := []string{"1", fmt.Sprint(len(orphan))}; m[1] != want[0] || m[2] != want[1] {
		t.Errorf("logged count=%s bytes=%s, want count=%s bytes=%s", m[1], m[2], want[0], want[1])
	}
	if orphanExists(t, oldPath) {
		t.Error("the two-hour-old orphan blob survived the restart")
	}
	if !orphanExists(t, youngPath) {
		t.Error("an orphan younger than the grace period was deleted")
	}
	if !orphanExists(t, keptPath) {
		t.Fatal("the blob of a published asset was deleted")
	}

	ca2 := caClient(t, c2.URL, rootCreds(t, dataDir))
	got, err := ca2.GetPackageVersionAsset(ctx, &codeartifact.GetPackageVersionAssetInput{Domain: aws.String("orph"), Repository: aws.String("repo"),
		Format: catypes.PackageFormatGeneric, Namespace: aws.String("ns"), Package: aws.String("kept"), PackageVersion: aws.String("1.0.0"),
		Asset: aws.String("kept.bin")})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(got.Asset)
	got.Asset.Close()
	if err != nil || !bytes.Equal(body, kept) {
		t.Fatalf("the published asset downloads %d bytes (%v), want its %d bytes unchanged", len(body), err, len(kept))
	}
	var nf *catypes.ResourceNotFoundException
	if _, err := ca2.DescribePackage(ctx, &codeartifact.DescribePackageInput{Domain: aws.String("orph"), Repository: aws.String("repo"),
		Format: catypes.PackageFormatGeneric, Namespace: aws.String("ns"), Package: aws.String("killed")}); !errors.As(err, &nf) {
		t.Errorf("the upload cut by SIGKILL: DescribePackage = %v, want ResourceNotFoundException", err)
	}
	// The collected content can be published again.
	if _, err := ca2.PublishPackageVersion(ctx, &codeartifact.PublishPackageVersionInput{Domain: aws.String("orph"), Repository: aws.String("repo"),
		Format: catypes.PackageFormatGeneric, Namespace: aws.String("ns"), Package: aws.String("again"), PackageVersion: aws.String("1.0.0"),
		AssetName: aws.String("again.bin"), AssetContent: bytes.NewReader(orphan), AssetSHA256: aws.String(orphanSHA(orphan))}); err != nil {
		t.Fatal(err)
	}
	if !orphanExists(t, oldPath) {
		t.Error("publishing the collected content again did not store it")
	}
	c2.Stop()
}

func orphanRandom(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func orphanSHA(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// orphanBlobPath is where the filesystem blob driver keeps a blob.
func orphanBlobPath(blobs, sha string) string {
	return filepath.Join(blobs, "sha256", sha[:2], sha[2:4], sha)
}

// orphanPlant writes content as a committed blob, age old, and returns its path.
func orphanPlant(t *testing.T, blobs string, content []byte, age time.Duration) string {
	t.Helper()
	p := orphanBlobPath(blobs, orphanSHA(content))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o640); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-age)
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
	return p
}

func orphanExists(t *testing.T, p string) bool {
	t.Helper()
	_, err := os.Stat(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// orphanCount counts the entries of dir.
func orphanCount(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// orphanPublishRequest is a PublishPackageVersion whose body streams from
// body, signed as botocore signs it (the asset's SHA-256 as payload hash).
func orphanPublishRequest(t *testing.T, endpoint, dataDir, pkg, asset string, body io.Reader, sum string) *http.Request {
	t.Helper()
	q := url.Values{"domain": {"orph"}, "repository": {"repo"}, "format": {"generic"}, "namespace": {"ns"},
		"package": {pkg}, "version": {"1.0.0"}, "asset": {asset}}
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(endpoint, "/")+"/v1/package/version/publish?"+q.Encode(), body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-amz-content-sha256", sum)
	if err := v4.NewSigner().SignHTTP(context.Background(), rootCreds(t, dataDir), req, sum, "codeartifact", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}
