package gencache

import (
	"fmt"
	"sync"
	"testing"
)

func TestServedOnlyAtItsGeneration(t *testing.T) {
	c := New[string, int](10)
	c.Put("a", 3, 30)
	if v, ok := c.Get("a", 3); !ok || v != 30 {
		t.Fatalf("Get at the same generation = %d, %v", v, ok)
	}
	for _, g := range []uint64{2, 4} {
		if _, ok := c.Get("a", g); ok {
			t.Fatalf("Get at generation %d served a value read at 3", g)
		}
	}
	if _, ok := c.Get("b", 3); ok {
		t.Fatal("Get of a missing key succeeded")
	}
}

func TestOlderReadDoesNotReplaceNewer(t *testing.T) {
	c := New[string, int](10)
	c.Put("a", 5, 50)
	c.Put("a", 4, 40) // a slow reader that started before a write
	if v, ok := c.Get("a", 5); !ok || v != 50 {
		t.Fatalf("newer entry lost: %d, %v", v, ok)
	}
	c.Put("a", 6, 60)
	if v, ok := c.Get("a", 6); !ok || v != 60 {
		t.Fatalf("newer read not stored: %d, %v", v, ok)
	}
}

func TestBounded(t *testing.T) {
	c := New[int, int](100)
	for i := range 1000 {
		c.Put(i, 1, i)
	}
	if n := c.Len(); n != 100 {
		t.Fatalf("Len = %d, want 100", n)
	}
	if v, ok := c.Get(999, 1); !ok || v != 999 {
		t.Fatalf("the last entry put is missing: %d, %v", v, ok)
	}
}

func TestConcurrent(t *testing.T) {
	c := New[string, int](50)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := fmt.Sprint(i % 80)
				c.Put(k, uint64(i%7), w)
				c.Get(k, uint64(i%7))
			}
		})
	}
	wg.Wait()
	if c.Len() > 50 {
		t.Fatalf("Len = %d over the bound", c.Len())
	}
}

func BenchmarkGetHit(b *testing.B) {
	c := New[string, int](1000)
	c.Put("key", 1, 1)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := c.Get("key", 1); !ok {
				b.Fatal("miss")
			}
		}
	})
}
