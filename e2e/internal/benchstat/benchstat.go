// Package benchstat holds the statistics the e2e benches print over measured durations, so that
// every bench reads "p95" and "median" the same way.
package benchstat

import (
	"slices"
	"time"
)

// Percentile is the nearest-rank p-th percentile of ds (p from 0 to 100): the smallest value with
// at least p% of the values at or below it; 0 for no values.
func Percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	i := (p*len(s)+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

// Median is the middle value of ds, or the mean of the two middle ones; 0 for no values.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
