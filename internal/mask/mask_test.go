package mask

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestMaskerLongestFirst(t *testing.T) {
	t.Parallel()
	var b Builder
	b.Name("SHORT")
	b.Name("LONG")
	b.Value("SHORT", []byte("secret"))
	b.Value("LONG", []byte("secret-extended"))
	m := b.Masker()
	if got := m.Mask("x secret-extended y"); got != "x [secret LONG redacted] y" {
		t.Errorf("got %q: the longer value must be masked whole", got)
	}
	if got := m.Mask("secret"); got != "[secret SHORT redacted]" {
		t.Errorf("short value not masked: %q", got)
	}
}

// tokenMasker masks one secret value, held by variable TOKEN.
func tokenMasker(value []byte) *Masker {
	var b Builder
	b.Name("TOKEN")
	b.Value("TOKEN", value)
	return b.Masker()
}

func TestMaskerForms(t *testing.T) {
	t.Parallel()
	const want = "[secret TOKEN redacted]"
	tests := []struct {
		name, value, text string
		masked            bool
	}{
		{"plain", "s3cr3t-value", "x s3cr3t-value y", true},
		{"base64 padded", "s3cr3t-value!", "x czNjcjN0LXZhbHVlIQ== y", true},
		{"base64 unpadded", "s3cr3t-value!", "x czNjcjN0LXZhbHVlIQ y", true},
		{"base64 URL-safe", "s3cr3t?>value", "x czNjcjN0Pz52YWx1ZQ== y", true},
		{"URL-encoded", "p@ss word/1", "GET /?p=p%40ss+word%2F1 y", true},
		{"path-escaped", "p@ss word/1", "GET /p@ss%20word%2F1 y", true},
		{"hex", "s3cr3t", "x 733363723374 y", true},
		{"hex upper", "zzzz", "x 7A7A7A7A y", true},
		{"7 chars with the --from-file newline", "hunter2\n", "password is hunter2", true},
		{"its base64 without the newline", "hunter2\n", "x aHVudGVyMg== y", true},
		{"its base64 with the newline", "hunter2\n", "x aHVudGVyMgo= y", true},
		{"a common short word is left alone", "true\n", "feature true, ready", false},
		{"under 4 characters", "ab\n", "about ab", false},
		{"a forged marker does not hide the value", "s3cr3t-value", "[secret s3cr3t-value redacted]", true},
	}
	for _, tc := range tests {
		m := tokenMasker([]byte(tc.value))
		got := m.Mask(tc.text)
		if tc.masked && (!strings.Contains(got, want) || strings.Contains(got, strings.TrimSpace(tc.value))) {
			t.Errorf("%s: Mask(%q) = %q, want the value masked", tc.name, tc.text, got)
		}
		if !tc.masked && got != tc.text {
			t.Errorf("%s: Mask(%q) = %q, want it unchanged", tc.name, tc.text, got)
		}
	}
}

// The fallback when the names cannot be compiled into one pattern still masks assignments.
func TestAssignmentPatternsFallback(t *testing.T) {
	t.Parallel()
	res := assignmentPatterns([]string{"A_TOKEN", "B_TOKEN"})
	if len(res) != 1 || !res[0].MatchString("B_TOKEN=x") {
		t.Errorf("patterns %v", res)
	}
	// The joined pattern fails, and so does the one for Z3: X1 and Y2 keep their patterns.
	compile := func(p string) (*regexp.Regexp, error) {
		if strings.Contains(p, "X1|Y2") || strings.Contains(p, "Z3") {
			return nil, errors.New("cannot compile")
		}
		return regexp.Compile(p)
	}
	res = assignmentPatternsWith([]string{"X1", "Y2", "Z3"}, compile)
	if len(res) != 2 || !res[1].MatchString("Y2: v") || res[0].MatchString("Y2: v") {
		t.Errorf("fallback patterns %v", res)
	}
}

// FuzzMasker: a Secret value, embedded in any text in any of its forms, never survives masking.
func FuzzMasker(f *testing.F) {
	f.Add([]byte("s3cr3t-value"), "before ", " after", uint8(0))
	f.Add([]byte("hunter2\n"), "password=", "", uint8(1))
	f.Add([]byte("p@ss word/1"), "GET /?p=", "&x=1", uint8(5))
	f.Add([]byte("abcdefgh"), "[secret ", " redacted]", uint8(7))
	f.Fuzz(func(t *testing.T, value []byte, before, after string, which uint8) {
		fs := forms(value)
		if len(fs) == 0 {
			return // too short or too common to mask by value (the policy)
		}
		m := tokenMasker(value)
		text := before + fs[int(which)%len(fs)] + after
		got := m.Mask(text)
		for _, form := range fs {
			if strings.ContainsAny(form, "[]") || strings.Contains(Marker("TOKEN"), form) {
				continue // could be made of a marker's own text
			}
			if strings.Contains(got, form) {
				t.Fatalf("form %q of the value survives: Mask(%q) = %q", form, text, got)
			}
		}
	})
}

func TestMaskCut(t *testing.T) {
	t.Parallel()
	var b Builder
	b.Value("DB_PASSWORD", []byte("s3cr3t-Pa55word"))
	b.Value("API_KEY", []byte("key-0123456789"))
	m := b.Masker()
	for _, tc := range []struct{ in, want string }{
		{"password s3cr3t-Pa55w", "password [secret DB_PASSWORD redacted]"},
		{"key=key-01", "key=[secret API_KEY redacted]"},
		{"ends in s3c", "ends in s3c"},
		{"s3cr3t-Pa55word then s3cr3", "[secret DB_PASSWORD redacted] then [secret DB_PASSWORD redacted]"},
		{"nothing secret", "nothing secret"},
	} {
		if got := m.MaskCut(tc.in); got != tc.want {
			t.Errorf("MaskCut(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
