package main

import (
	"regexp"
	"strings"
)

// The convention: in CHANGELOG.md, the first `## ` heading that says
// "Unreleased" opens the unreleased section; in it, a `BREAKING CHANGES:`
// line (HashiCorp's changelog style, like `FEATURES:`) opens a list of
// breaks, which runs to the next such section line or heading. A break is
// named when one of those lines holds its path in backticks, such as
// "* `vpsorg_server.hostname` is removed: ...".

var (
	sectionLine  = regexp.MustCompile(`^[A-Z][A-Z ]*:$`)
	backticked   = regexp.MustCompile("`([^`]+)`")
	breakingLine = "BREAKING CHANGES:"
)

// namedBreaks returns the paths the unreleased section's BREAKING CHANGES
// list names in backticks.
func namedBreaks(changelog string) map[string]bool {
	named := map[string]bool{}
	inUnreleased, inBreaking := false, false
	for _, line := range strings.Split(changelog, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "## ") {
			if inUnreleased {
				break // the released sections are history
			}
			inUnreleased = strings.Contains(strings.ToLower(line), "unreleased")
			continue
		}
		if !inUnreleased {
			continue
		}
		if sectionLine.MatchString(line) || strings.HasPrefix(line, "#") {
			inBreaking = line == breakingLine
			continue
		}
		if inBreaking {
			for _, m := range backticked.FindAllStringSubmatch(line, -1) {
				named[m[1]] = true
			}
		}
	}
	return named
}
