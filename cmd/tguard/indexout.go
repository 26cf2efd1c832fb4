package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// flushHint is the command that applies what this run left journaled: the
// same index, owner and journal.
func (f *indexFlags) flushHint() string {
	h := "tguard flush --index " + shellQuote(f.dir)
	if f.lease.owner != "" {
		h += " --owner " + shellQuote(f.lease.owner)
	}
	if f.journal != "" {
		h += " --journal " + shellQuote(f.journal)
	}
	return h
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}()<>|&;!#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// skipReason groups skip reasons for the summary's counts: sizes and
// system errors vary in their details, not in what a person does about them.
func skipReason(r string) string {
	if strings.HasPrefix(r, "larger than") {
		return "too large"
	}
	// A journaled file that changed or went away before it was applied
	// (or copied into the journal).
	if strings.HasPrefix(r, "changed after it was journaled") {
		return "changed after it was journaled"
	}
	if strings.HasPrefix(r, "not indexed: ") || strings.HasPrefix(r, "not copied into the journal: ") {
		return "gone"
	}
	return r
}

// summaryLine is the one line index and flush print on success.
func summaryLine(sum indexSummary, rate float64, verbose bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "files %d, accepted %d, indexed %d", sum.Files, sum.Accepted, sum.Indexed)
	fmt.Fprintf(&b, ", skipped %d", sum.Skipped)
	if len(sum.SkippedBy) > 0 {
		reasons := make([]string, 0, len(sum.SkippedBy))
		for r := range sum.SkippedBy {
			reasons = append(reasons, r)
		}
		sort.Slice(reasons, func(i, j int) bool {
			if sum.SkippedBy[reasons[i]] != sum.SkippedBy[reasons[j]] {
				return sum.SkippedBy[reasons[i]] > sum.SkippedBy[reasons[j]]
			}
			return reasons[i] < reasons[j]
		})
		parts := make([]string, len(reasons))
		for i, r := range reasons {
			parts[i] = fmt.Sprintf("%s %d", r, sum.SkippedBy[r])
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	if sum.Bad > 0 {
		fmt.Fprintf(&b, ", bad lines %d", sum.Bad)
	}
	if sum.Deleted > 0 {
		fmt.Fprintf(&b, ", deleted %d", sum.Deleted)
	}
	if sum.Committed {
		fmt.Fprintf(&b, ", committed with token %d", sum.Token)
	} else {
		b.WriteString(", nothing to commit")
	}
	fmt.Fprintf(&b, ", %.1f s, %.0f docs/s", sum.Seconds, rate)
	if (sum.Skipped > 0 || sum.Bad > 0) && !verbose {
		b.WriteString("; --verbose lists what was skipped")
	}
	return b.String()
}

// checkJournalFlag says what is wrong with a --journal that names a
// folder rather than calling the journal corrupt ("" is the default
// journal).
func checkJournalFlag(path string) error {
	if fi, err := os.Stat(path); path != "" && err == nil && fi.IsDir() {
		return usageErr(fmt.Errorf("--journal %s is a folder; name a file (it is created if missing)", path))
	}
	return nil
}
