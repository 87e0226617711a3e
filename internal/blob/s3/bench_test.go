package s3

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"coffer/internal/blob/blobtest"
)

// BenchmarkStage measures Stage into the test server (default part size)
// followed by Discard.
func BenchmarkStage(b *testing.B) {
	s := newTestStore(b, nil)
	for _, size := range []int{1 << 20, 64 << 20} {
		data := blobtest.RandomBytes(size, 1)
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				st, err := s.Stage(context.Background(), bytes.NewReader(data), 0)
				if err != nil {
					b.Fatal(err)
				}
				if err := st.Discard(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
