package gaterun

import "sort"

func sorted(xs []string) []string {
	sort.Strings(xs)
	return xs
}
