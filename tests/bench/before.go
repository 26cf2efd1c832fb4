package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// beforeTable renders the headline of an earlier run (-before) beside this
// run's, key by key, for a change's before-and-after figures.
func (b *bench) beforeTable(head []byte) (string, error) {
	if b.beforeFile == "" {
		return "", nil
	}
	raw, err := os.ReadFile(b.beforeFile)
	if err != nil {
		return "", err
	}
	before, err := lastObject(raw)
	if err != nil {
		return "", fmt.Errorf("-before %s: %w", b.beforeFile, err)
	}
	var after map[string]any
	if err := json.Unmarshal(head, &after); err != nil {
		return "", err
	}
	var s strings.Builder
	fmt.Fprintf(&s, "## Before and after\n\nThe last JSON line of an earlier full run (%s) beside this run's.\n\n", b.beforeLabel)
	s.WriteString("| key | before | this run |\n|---|---:|---:|\n")
	keys := make([]string, 0, len(after))
	for k := range after {
		keys = append(keys, k)
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	show := func(m map[string]any, k string) string {
		if v, ok := m[k]; ok {
			return fmt.Sprint(v)
		}
		return "—"
	}
	for _, k := range keys {
		fmt.Fprintf(&s, "| %s | %s | %s |\n", k, show(before, k), show(after, k))
	}
	s.WriteString("\n")
	return s.String(), nil
}

// lastObject is the last line of out that holds a JSON object.
func lastObject(out []byte) (map[string]any, error) {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "{") {
			var m map[string]any
			err := json.Unmarshal([]byte(lines[i]), &m)
			return m, err
		}
	}
	return nil, fmt.Errorf("no JSON object line")
}

// checkBefore fails early on a -before file the report could not use.
func (b *bench) checkBefore() error {
	if b.beforeFile == "" {
		return nil
	}
	raw, err := os.ReadFile(b.beforeFile)
	if err == nil {
		_, err = lastObject(raw)
	}
	if err != nil {
		return fmt.Errorf("-before %s: %w", b.beforeFile, err)
	}
	return nil
}
