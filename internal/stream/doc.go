// Package stream knows the live streams an edge serves, from the playlists
// it caches, and judges each media request by them.
//
// A viewer only ever asks for what a playlist told it to ask for: the
// segments of the current window, ones just removed (players lag), the next
// ones (a player that is early), and the playlists a master lists. The
// Catalog learns those names every time the cache stores a playlist; the
// Stage stamps each request's record with the judgement (listed, unlisted,
// unjudged) and refuses, for a few microseconds and no origin request, a
// segment that sits in a live rendition's place and that no playlist ever
// listed. Viewers tells players apart from lookalikes by what they do: a
// media playlist, then the segments it lists, at a player's pace.
//
// Everything fails open: a playlist that cannot be parsed, a directory
// whose renditions the edge has not all seen, or a catalog at its bounds
// leaves requests unjudged, never refused.
package stream
