//go:build race

package rubygems

// raceEnabled: the race detector makes allocations unmeasurable (it
// allocates, and sync.Pool drops what it is given at random).
const raceEnabled = true
