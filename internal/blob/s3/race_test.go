//go:build race

package s3

// raceEnabled: the race detector makes sync.Pool drop buffers at random, so
// heap measurements mean nothing.
const raceEnabled = true
