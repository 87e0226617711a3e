//go:build unix

package fs

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"io"
	"syscall"
	"testing"

	"coffer/internal/blob"
)

const benchSize = 256 << 20

// reportCPU reports the process CPU time per op alongside wall time: the
// benchmarks are CPU-bound, so on a shared machine cpu-s/op shows the work
// done even when wall time (and MB/s) suffers from other load.
func reportCPU(b *testing.B) {
	cpu := func() float64 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	}
	start := cpu()
	b.Cleanup(func() { b.ReportMetric((cpu()-start)/float64(b.N), "cpu-s/op") })
}

// BenchmarkStage stages and commits (fsync included) a 256 MiB stream.
func BenchmarkStage(b *testing.B) {
	s, err := New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(benchSize)
	reportCPU(b)
	for b.Loop() {
		st, err := s.Stage(ctx, &patternReader{left: benchSize}, 0)
		if err != nil {
			b.Fatal(err)
		}
		if created, err := st.Commit(ctx); err != nil || !created {
			b.Fatalf("Commit = %v, %v", created, err)
		}
		b.StopTimer()
		// The content repeats across iterations; delete it so that
		// every Commit does the full work.
		if err := s.Delete(ctx, st.Digests().SHA256); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkStageMemory stages and commits 1 GiB and reports how much the heap
// in use (at its peak) and the memory obtained from the OS grew meanwhile.
func BenchmarkStageMemory(b *testing.B) {
	s, err := New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	const size = 1 << 30
	b.SetBytes(size)
	var peak memGrowth
	for b.Loop() {
		grew, sha := stageMeasuringHeap(b, s, size)
		peak.heapPeak = max(peak.heapPeak, grew.heapPeak)
		peak.sys = max(peak.sys, grew.sys)
		b.StopTimer()
		if err := s.Delete(context.Background(), sha); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(peak.heapPeak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peak.sys)/(1<<20), "sys-growth-MiB")
}

// BenchmarkHasher measures the multi-digest hasher alone, fed 1 MiB writes.
func BenchmarkHasher(b *testing.B) {
	buf := make([]byte, 1<<20)
	copy(buf, pattern)
	b.SetBytes(benchSize)
	reportCPU(b)
	for b.Loop() {
		h := blob.NewHasher()
		for range benchSize / len(buf) {
			h.Write(buf)
		}
		h.Sum()
	}
}

// BenchmarkBaseline gives single hashes and the naive io.MultiWriter of all
// four, for comparison with BenchmarkHasher.
func BenchmarkBaseline(b *testing.B) {
	buf := make([]byte, 1<<20)
	copy(buf, pattern)
	for _, bc := range []struct {
		name string
		new  func() io.Writer
	}{
		{"md5", func() io.Writer { return md5.New() }},
		{"sha1", func() io.Writer { return sha1.New() }},
		{"sha256", func() io.Writer { return sha256.New() }},
		{"sha512", func() io.Writer { return sha512.New() }},
		{"multiwriter", func() io.Writer {
			return io.MultiWriter([]io.Writer{md5.New(), sha1.New(), sha256.New(), sha512.New()}...)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(benchSize)
			reportCPU(b)
			for b.Loop() {
				w := bc.new()
				for range benchSize / len(buf) {
					w.Write(buf)
				}
			}
		})
	}
}
