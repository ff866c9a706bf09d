package benchstat

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	s := time.Second
	for _, tc := range []struct {
		ds   []time.Duration
		p    int
		want time.Duration
	}{
		{nil, 50, 0},
		{[]time.Duration{3 * s}, 0, 3 * s},
		{[]time.Duration{3 * s}, 100, 3 * s},
		{[]time.Duration{4 * s, 1 * s, 3 * s, 2 * s}, 50, 2 * s},
		{[]time.Duration{4 * s, 1 * s, 3 * s, 2 * s}, 51, 3 * s},
		{[]time.Duration{4 * s, 1 * s, 3 * s, 2 * s}, 95, 4 * s},
		{[]time.Duration{4 * s, 1 * s, 3 * s, 2 * s}, 100, 4 * s},
		{[]time.Duration{4 * s, 1 * s, 3 * s, 2 * s}, 0, 1 * s},
	} {
		if got := Percentile(tc.ds, tc.p); got != tc.want {
			t.Errorf("Percentile(%v, %d) = %s, want %s", tc.ds, tc.p, got, tc.want)
		}
	}
}

func TestMedian(t *testing.T) {
	t.Parallel()
	s := time.Second
	for _, tc := range []struct {
		ds   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{7 * s}, 7 * s},
		{[]time.Duration{30 * s, 10 * s}, 20 * s},
		{[]time.Duration{5 * s, 1 * s, 3 * s}, 3 * s},
	} {
		in := append([]time.Duration(nil), tc.ds...)
		if got := Median(tc.ds); got != tc.want {
			t.Errorf("Median(%v) = %s, want %s", tc.ds, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.ds[i] {
				t.Fatalf("Median reordered its input: %v, was %v", tc.ds, in)
			}
		}
	}
}
