package main

// change is one profile-driven change to the relay, with the figures
// measured when it was made (the load tool, 3 rounds, medians), as its
// commit message gives them.
type change struct {
	Commit  string
	Finding string // what the profile showed
	Fix     string
	Figures string // before → after
}

// changes are the changes since the baseline (defaultBefore), in order.
var changes = []change{}
