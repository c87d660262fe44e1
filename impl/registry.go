package impl

// registry maps verifier names to constructors. Adding a verifier is one
// file with its constructor plus one line here.
var registry = map[string]Constructor{
	"uncached":   newUncached,
	"generation": newGeneration,
	"mtime":      newMtime,
	"ttl":        newTTL,
	"ttl-ctime":  newTTLCtime,
}
