package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/tguard/tguard/bridge"
)

func TestMarkSnippet(t *testing.T) {
	s := &bridge.Snippet{Text: "a  Mutex   is  é mutex ", Highlighted: [][2]int{{3, 8}, {18, 23}}}
	assert.Equal(t, "a Mutex is é mutex", markSnippet(s, false))
	assert.Equal(t, "a \x1b[1mMutex\x1b[0m is é \x1b[1mmutex\x1b[0m", markSnippet(s, true))
	bad := &bridge.Snippet{Text: "abc", Highlighted: [][2]int{{2, 9}, {1, 0}}}
	assert.Equal(t, "abc", markSnippet(bad, true), "ranges out of the text are ignored")
}

func TestIgnoredOperator(t *testing.T) {
	for q, want := range map[string]string{
		"mutex*":               "mutex*",
		"title:mutex*":         "title:mutex*",
		"a +mutx~1":            "mutx~1",
		`"sync rwmu"*`:         "",
		`"a b"~2`:              "",
		"plain words":          "",
		`"x*" and y`:           "",
		"modified:[2024 TO *]": "",
	} {
		assert.Equal(t, want, ignoredOperator(q), q)
	}
}
