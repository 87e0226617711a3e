package fs

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestZZPhases(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for _, size := range []int64{256 << 20, 1 << 30} {
		t0 := time.Now()
		st, err := s.Stage(ctx, &patternReader{left: size}, 0)
		if err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		if _, err := st.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		t2 := time.Now()
		mb := float64(size) / 1e6
		fmt.Printf("%d MiB: stage %v (%.0f MB/s) commit %v total %.0f MB/s\n", size>>20, t1.Sub(t0).Round(time.Millisecond), mb/t1.Sub(t0).Seconds(), t2.Sub(t1).Round(time.Millisecond), mb/t2.Sub(t0).Seconds())
		s.Delete(ctx, st.Digests().SHA256)
	}
}
