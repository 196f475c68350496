package loadgen

import (
	"math/bits"
	"time"
)

// Histogram is a log-linear latency histogram in the spirit of HDR: exact
// below 64 ns, then 32 sub-buckets per power of two (about 3% resolution),
// fixed size, no allocation per sample. Not safe for concurrent use; give
// each goroutine its own and [Histogram.Merge] them.
type Histogram struct {
	counts [histBuckets]uint64
	n      uint64
	max    uint64
}

const histBuckets = 59*32 + 64

func bucket(v uint64) int {
	if v < 64 {
		return int(v)
	}
	shift := bits.Len64(v) - 6
	return shift*32 + int(v>>shift)
}

func bucketMid(i int) uint64 {
	if i < 64 {
		return uint64(i)
	}
	shift := i/32 - 1
	m := uint64(i%32 + 32)
	lo := m << shift
	hi := (m+1)<<shift - 1
	return lo + (hi-lo)/2
}

// Record adds one sample.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucket(v)]++
	h.n++
	if v > h.max {
		h.max = v
	}
}

// Merge adds o's samples to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Count returns the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the largest sample.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Quantile returns the q-quantile (0 < q <= 1), 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketMid(i), h.max))
		}
	}
	return time.Duration(h.max)
}
