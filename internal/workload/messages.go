package workload

import (
	"strings"
	"unicode"
)

// DropRepeatedTail removes a repeat at the end of a cluster message: the scheduler ends a missing
// claim's message with its post-filter's words after its own, `persistentvolumeclaim "data" not
// found. not found`, and a report that quotes it reads as a stutter. Only a tail of whole words
// that repeats the words just before it goes; the message is otherwise kept as written.
func DropRepeatedTail(msg string) string {
	words := strings.Fields(msg)
	for n := len(words) / 2; n >= 1; n-- {
		tail, before := words[len(words)-n:], words[len(words)-2*n:len(words)-n]
		if sameWords(tail, before) {
			// Cut the original text before the last n words, so its line breaks stay.
			kept := strings.TrimRightFunc(msg, unicode.IsSpace)
			for range n {
				kept = strings.TrimRightFunc(kept[:strings.LastIndexFunc(kept, unicode.IsSpace)+1], unicode.IsSpace)
			}
			return kept
		}
	}
	return msg
}

// HasRepeatedTail reports whether msg ends with a repeat DropRepeatedTail would remove.
func HasRepeatedTail(msg string) bool { return DropRepeatedTail(msg) != msg }

// sameWords compares words ignoring the sentence's punctuation at their ends, and only counts a
// repeat that holds a letter (a table of numbers may repeat).
func sameWords(a, b []string) bool {
	letter := false
	for i := range a {
		x, y := strings.TrimRight(a[i], ".,;:"), strings.TrimRight(b[i], ".,;:")
		if x != y {
			return false
		}
		letter = letter || strings.IndexFunc(x, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }) >= 0
	}
	return letter
}
