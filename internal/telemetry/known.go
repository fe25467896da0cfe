package telemetry

// Known is what the edge knows of the object a request names, from the
// playlists of the streams it serves (see package stream).
type Known uint8

// The judgements. KnownUnjudged is the zero value: the edge has no
// playlist that speaks for the object's place, so it cannot tell.
const (
	KnownUnjudged Known = iota
	// KnownListed: a current playlist lists the object, lists it lately
	// (players lag), or names it as the next one to come.
	KnownListed
	// KnownUnlisted: the object sits where the edge knows every object
	// that exists, and no playlist lists it.
	KnownUnlisted
)

var knownNames = [...]string{KnownUnjudged: "unjudged", KnownListed: "listed", KnownUnlisted: "unlisted"}

// String returns the judgement's name, as in logs and metrics.
func (k Known) String() string {
	if int(k) >= len(knownNames) {
		return "invalid"
	}
	return knownNames[k]
}
