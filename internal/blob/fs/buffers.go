package fs

// stageBufferCount is how many read buffers one staging may hold: the hash
// goroutines read a buffer in place while the next ones are read from the
// client and written out, so a few keep all of them busy.
const stageBufferCount = 4

// stageBuffers are the read buffers of one staging, taken from copyPool as
// needed (a small stream takes one) and given back by close.
type stageBuffers struct {
	taken []*[]byte
	free  chan *[]byte
}

func newStageBuffers() *stageBuffers {
	return &stageBuffers{free: make(chan *[]byte, stageBufferCount)}
}

// get returns a buffer that no one reads, waiting for one when all are
// being hashed.
func (b *stageBuffers) get() *[]byte {
	select {
	case bp := <-b.free:
		return bp
	default:
	}
	if len(b.taken) < stageBufferCount {
		bp := copyPool.Get().(*[]byte)
		b.taken = append(b.taken, bp)
		return bp
	}
	return <-b.free
}

// put gives a buffer back; it never blocks (free holds them all).
func (b *stageBuffers) put(bp *[]byte) { b.free <- bp }

// close returns the buffers to the pool; nothing may read them any more.
func (b *stageBuffers) close() {
	for _, bp := range b.taken {
		copyPool.Put(bp)
	}
	b.taken = nil
}
